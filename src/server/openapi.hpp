#pragma once
// The OpenAPI 3.1 document of the daemon's API (docs/openapi.json), embedded at build time by
// src/server/CMakeLists.txt, served at GET /openapi.json.
// Thread-safety: a constant.

#include <string_view>

namespace tiercache::server {

std::string_view openapi_document() noexcept;

}  // namespace tiercache::server
