# Warnings every tiercache target builds with; -Werror when TIERCACHE_WERROR is on (CI).
# Not -Wnon-virtual-dtor: it fires on every boost::system::error_category subclass, and -Wall's
# -Wdelete-non-virtual-dtor already catches the real bug. Not -Wmissing-field-initializers: it
# fires on `Options{.x = 1}`, the designated-initializer style our options are made for.
add_library(tiercache_warnings INTERFACE)
target_compile_options(tiercache_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference -Wimplicit-fallthrough
  -Wno-missing-field-initializers
  $<$<BOOL:${TIERCACHE_WERROR}>:-Werror>)
# g++ 12 under the sanitizers (-O1 and -O2) reports problems that are not there: -Wmaybe-uninitialized
# inside libstdc++ (std::regex, std::function) and -Wmismatched-new-delete on Asio's coroutine
# frames (GCC bug 109224). Keep both warnings, but not as errors, in those builds.
if(TIERCACHE_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(tiercache_warnings INTERFACE -Wno-error=maybe-uninitialized
                                                      -Wno-error=mismatched-new-delete)
endif()
# g++ 12 at -O3 (the Release build: benchmarks and the README's run command) reports, after
# inlining, "potential" null dereferences, overlapping memcpy and uninitialized strings: some 300
# warnings a build, nearly all inside libstdc++ and Asio (std::shared_ptr, the scheduler,
# basic_string's destructor), the rest in small inline accessors of ours as inlined into
# coroutine bodies; none we looked at was real. The sanitizer build, which CI runs with -Werror,
# keeps all three.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT TIERCACHE_SANITIZE)
  target_compile_options(tiercache_warnings INTERFACE
    $<$<CONFIG:Release>:-Wno-null-dereference -Wno-restrict -Wno-maybe-uninitialized>)
endif()
