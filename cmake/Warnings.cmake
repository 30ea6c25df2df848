# Warnings every tiercache target builds with; -Werror when TIERCACHE_WERROR is on (CI).
add_library(tiercache_warnings INTERFACE)
target_compile_options(tiercache_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${TIERCACHE_WERROR}>:-Werror>)
