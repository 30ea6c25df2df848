# A raw string literal's delimiter is at most 16 characters (C++ [lex.string]).
# Writes OUTPUT, a C++ file defining tiercache::server::openapi_document() as INPUT's text.
file(READ ${INPUT} _text)
string(FIND "${_text}" ")json\"" _clash)
if(NOT _clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter")
endif()
file(WRITE ${OUTPUT}.tmp
     "// Generated from docs/openapi.json by src/server/embed_openapi.cmake. Do not edit.\n"
     "#include \"server/openapi.hpp\"\n\n"
     "namespace tiercache::server {\n\n"
     "std::string_view openapi_document() noexcept {\n"
     "  static constexpr std::string_view kDocument = R\"json(${_text})json\";\n"
     "  return kDocument;\n"
     "}\n\n"
     "}  // namespace tiercache::server\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
