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
