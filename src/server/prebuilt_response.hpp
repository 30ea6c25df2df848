#pragma once
// PrebuiltResponse: a response written as text from the start, for the hot paths (a cache hit
// through the REST API or the proxy): its header lines appended to one string, its body a view
// into the cache entry it came from, which the response keeps alive, so the value is not copied.
// A Beast message, the other kind of Reply, builds a node per field (an allocation and a
// case-insensitive set insert each), copies the body, and is turned into text again when sent:
// on a proxy hit that was a fifth of the server's instructions (bench/README.md,
// http/proxy_vs_nginx). The session adds Content-Length and Connection when it writes one.
// Use: PrebuiltResponse res(http::status::ok, req);
//      res.field("Content-Type", "application/json");
//      res.body(entry, entry->value);
//      co_return res;  // a Reply
// Thread-safety: a plain value.

#include "server/http_types.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace tiercache::server {

class PrebuiltResponse {
 public:
  // Whether a response with `status` carries a body (and so may be prebuilt): not 1xx, 204, 304.
  static bool carries_body(unsigned status) noexcept;

  // REQUIRES: carries_body(status). Version and keep-alive as the request's.
  PrebuiltResponse(http::status status, const Request& req);

  // Appends "name: value". Returns false and adds nothing when either could break the header
  // block (empty name; CR, LF or NUL in either; a name that is not an HTTP token), as bytes
  // read back from Redis might. Content-Length and Connection are the session's: not here.
  bool field(std::string_view name, std::string_view value);
  // The body: `bytes`, kept valid by `owner`.
  void body(std::shared_ptr<const void> owner, std::string_view bytes) noexcept;

  unsigned status() const noexcept { return status_; }
  unsigned version() const noexcept { return version_; }
  bool keep_alive() const noexcept { return keep_alive_; }
  void keep_alive(bool on) noexcept { keep_alive_ = on; }
  std::string_view body() const noexcept { return body_; }

  // The same response as a Beast message (the body copied), for callers inside the daemon that
  // read an answer rather than send it (admin warm, the MCP calendar tools).
  Response to_message() const;

  // Writes the status line and the header block (with Content-Length and, where the version
  // needs it, Connection) into `out`, replacing what it held.
  void write_head(std::string& out) const;

 private:
  unsigned status_;
  unsigned version_;
  bool keep_alive_;
  std::string fields_;  // "name: value\r\n" lines
  std::shared_ptr<const void> owner_;
  std::string_view body_;
};

}  // namespace tiercache::server
