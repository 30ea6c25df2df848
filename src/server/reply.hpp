#pragma once
// Reply: what a request handler answers with: a Beast message (any response), or a
// PrebuiltResponse (a cache hit's text-first fast path). The session writes either.
// Use: asio::awaitable<Reply> handle(Request req) { ... co_return res; }  // either kind
// Thread-safety: plain values.

#include "server/http_types.hpp"
#include "server/prebuilt_response.hpp"

#include <cstddef>
#include <utility>
#include <variant>

namespace tiercache::server {

using Reply = std::variant<Response, PrebuiltResponse>;

inline unsigned status_of(const Reply& reply) noexcept {
  if (const auto* res = std::get_if<Response>(&reply)) return res->result_int();
  return std::get<PrebuiltResponse>(reply).status();
}

inline std::size_t body_size(const Reply& reply) noexcept {
  if (const auto* res = std::get_if<Response>(&reply)) return res->body().size();
  return std::get<PrebuiltResponse>(reply).body().size();
}

inline bool keep_alive(const Reply& reply) {
  if (const auto* res = std::get_if<Response>(&reply)) return res->keep_alive();
  return std::get<PrebuiltResponse>(reply).keep_alive();
}

// The reply as a Beast message, for callers inside the daemon that read an answer.
inline Response to_message(Reply reply) {
  if (auto* res = std::get_if<Response>(&reply)) return std::move(*res);
  return std::get<PrebuiltResponse>(reply).to_message();
}

}  // namespace tiercache::server
