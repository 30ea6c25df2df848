# Writes OUTPUT, a C++ file defining tiercache::server::dashboard::embedded_assets(): every file
# under ROOT (a README.md aside) as bytes, with its path under ROOT, its Content-Type and a strong
# ETag (the first 16 hex digits of its SHA-256), so the daemon serves the page with no file of its
# own at run time. Bytes, not a raw string: any file embeds as it is.
# Use: cmake -DROOT=<web/dashboard> -DOUTPUT=<x.cpp> -P embed_dashboard.cmake
foreach(_var ROOT OUTPUT)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "embed_dashboard.cmake: -D${_var}= is required")
  endif()
endforeach()
file(GLOB_RECURSE FILES LIST_DIRECTORIES false ${ROOT}/*)
list(FILTER FILES EXCLUDE REGEX "/README\\.md$")
list(SORT FILES)
set(_arrays "")
set(_table "")
set(_index 0)
foreach(_file IN LISTS FILES)
  file(RELATIVE_PATH _path ${ROOT} ${_file})
  get_filename_component(_ext ${_file} LAST_EXT)
  string(TOLOWER "${_ext}" _ext)
  if(_ext STREQUAL ".html")
    set(_type "text/html; charset=utf-8")
  elseif(_ext STREQUAL ".js")
    set(_type "text/javascript; charset=utf-8")
  elseif(_ext STREQUAL ".css")
    set(_type "text/css; charset=utf-8")
  elseif(_ext STREQUAL ".svg")
    set(_type "image/svg+xml")
  elseif(_ext STREQUAL ".png")
    set(_type "image/png")
  elseif(_ext STREQUAL ".json")
    set(_type "application/json")
  else()
    message(FATAL_ERROR "embed_dashboard.cmake: no Content-Type known for ${_file}")
  endif()
  file(READ ${_file} _hex HEX)
  string(LENGTH "${_hex}" _hex_length)
  math(EXPR _size "${_hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
  # Line breaks every 24 bytes keep the generated file readable by editors and compilers.
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n" _bytes "${_bytes}")
  file(SHA256 ${_file} _sha)
  string(SUBSTRING ${_sha} 0 16 _etag)
  string(APPEND _arrays "const unsigned char kAsset${_index}[] = {${_bytes}0x00};\n")
  string(APPEND _table
         "    Asset{\"${_path}\", \"${_type}\", \"\\\"${_etag}\\\"\",\n"
         "          std::string_view(reinterpret_cast<const char*>(kAsset${_index}), ${_size})},\n")
  math(EXPR _index "${_index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp
     "// Generated from web/dashboard/ by src/server/dashboard/embed_dashboard.cmake. Do not edit.\n"
     "#include \"server/dashboard/assets.hpp\"\n\n"
     "namespace tiercache::server::dashboard {\n"
     "namespace {\n\n"
     "${_arrays}\n"
     "}  // namespace\n\n"
     "std::span<const Asset> embedded_assets() noexcept {\n"
     "  static const Asset kAssets[] = {\n"
     "${_table}"
     "  };\n"
     "  return kAssets;\n"
     "}\n\n"
     "}  // namespace tiercache::server::dashboard\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
