#pragma once
// StoredResponse: an upstream response as the proxy caches it: the status, the headers worth
// keeping for a client (content-type, content-language, etag, last-modified, cache-control,
// expires, location, vary, link), the upstream's Age when it was fetched, and the body bytes as
// they came. Encoded compactly in the cache entry's value:
//   "tcp1" | status u16 | age u32 (s) | count u8 | count x (name u8 len, value u16 len) | body
// Use: cache value = encode_response(keep_for_cache(upstream_response));
//      if (auto r = decode_response(entry.value)) build_client_response(*r);
// Thread-safety: pure functions.

#include "server/http_types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::server::proxy {

// Views into the encoded bytes: valid while they are.
struct StoredResponse {
  unsigned status = 200;
  // The upstream's Age header at fetch, seconds (RFC 9111 4.2.3: a client's Age adds it).
  std::uint32_t upstream_age = 0;
  std::vector<std::pair<std::string_view, std::string_view>> headers{};
  std::string_view body{};
};

// The parts of `res` kept in the cache (views into `res`).
StoredResponse keep_for_cache(const Response& res);
std::string encode_response(const StoredResponse& stored);
// nullopt when the bytes are not an encoded response (corrupt, or another writer's value).
std::optional<StoredResponse> decode_response(std::string_view bytes);

}  // namespace tiercache::server::proxy
