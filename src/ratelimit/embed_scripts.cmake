# Writes OUTPUT, a C++ header defining one raw string literal per Lua file of src/ratelimit/:
# kSlidingLog, kSlidingWindow, kTokenBucket, the files' text byte for byte, so the .lua files are
# the only copy and the library needs no file at run time. Run by src/CMakeLists.txt at build time.
# A raw string literal's delimiter is at most 16 characters (C++ [lex.string]).
# Quoted throughout: the scripts' text holds semicolons, CMake's list separator.
set(_out "// Generated from src/ratelimit/*.lua by src/ratelimit/embed_scripts.cmake. Do not edit.\n")
string(APPEND _out "#pragma once\n\n#include <string_view>\n\nnamespace tiercache::ratelimit::lua {\n")
foreach(_pair sliding_log:kSlidingLog sliding_window:kSlidingWindow token_bucket:kTokenBucket)
  string(REPLACE ":" ";" _pair "${_pair}")
  list(GET _pair 0 _file)
  list(GET _pair 1 _name)
  file(READ ${SOURCE_DIR}/${_file}.lua _text)
  string(FIND "${_text}" ")lua\"" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${_file}.lua contains the raw string delimiter")
  endif()
  string(APPEND _out "\ninline constexpr std::string_view ${_name} = R\"lua(${_text})lua\";\n")
endforeach()
string(APPEND _out "\n}  // namespace tiercache::ratelimit::lua\n")
file(WRITE ${OUTPUT}.tmp "${_out}")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
