# TIERCACHE_SANITIZE=address,undefined or thread: applied to every target in the tree.
if(TIERCACHE_SANITIZE)
  set(_flags -fsanitize=${TIERCACHE_SANITIZE} -fno-omit-frame-pointer)
  if(TIERCACHE_SANITIZE MATCHES "undefined")
    list(APPEND _flags -fno-sanitize-recover=undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # clang 14's -fsanitize=function cannot compile some Asio coroutine frames
      # ("Cannot represent a difference across sections").
      list(APPEND _flags -fno-sanitize=function)
    endif()
  endif()
  if(TIERCACHE_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 warns (-Wtsan) on atomic_thread_fence inside libstdc++ and Asio: not ours to fix.
    list(APPEND _flags -Wno-tsan)
  endif()
  add_compile_options(${_flags})
  add_link_options(${_flags})
endif()

# Fuzz builds instrument the whole library for coverage; fuzz/ links the libFuzzer driver per target.
if(TIERCACHE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# The test command builds ~100 programs around the library under ASan: tests, benchmarks (built,
# not run) and examples. Their own code compiles at -O0 (a third faster than -O1) while the code
# under test keeps the preset's level.
function(tiercache_compile_quickly target)
  if(TIERCACHE_SANITIZE MATCHES "address" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()
