#pragma once
// The dashboard page's files (web/dashboard/), embedded at build time by embed_dashboard.cmake
// (src/server/CMakeLists.txt), so the daemon serves its page with no file of its own at run time
// and the page works offline: it loads nothing from anywhere but the daemon.
// Use: if (const Asset* a = find_asset("dashboard.js")) res.body() = std::string(a->body);
// Thread-safety: constants.

#include <span>
#include <string_view>

namespace tiercache::server::dashboard {

struct Asset {
  std::string_view path;          // under web/dashboard/: "index.html", "dashboard.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // strong, quotes included: the file's SHA-256, shortened
  std::string_view body;
};

// Every embedded file (generated).
std::span<const Asset> embedded_assets() noexcept;
// The file at `path` under web/dashboard/, or null.
const Asset* find_asset(std::string_view path) noexcept;

}  // namespace tiercache::server::dashboard
