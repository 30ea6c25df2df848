#pragma once
// Route: one proxy route at run time: which request paths it takes, the cache key of a request,
// and the request it sends upstream. The key is "GET:<path below the prefix>[:<hash>]", the hash
// (XXH3) standing for the query parameters normalized by the route's rules (cache::KeySchema)
// and for the values of its key headers.
// Use: Route r(config); if (r.takes(path)) { auto in = r.parse(req); auto key = r.key_for(*in); }
// Thread-safety: immutable after construction; safe from any thread.

#include "tiercache/base/result.hpp"
#include "tiercache/cache/key_builder.hpp"

#include "server/api_error.hpp"
#include "server/http_types.hpp"
#include "server/proxy/route_config.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tiercache::server::proxy {

// A client request as the route sees it.
struct RouteRequest {
  // The path below the prefix, percent-encoded as it came ("" or "/..."), and decoded.
  std::string path_below{};
  std::string decoded_path_below{};
  // The raw query ("" or "a=1&b=2", without '?'), and its pairs decoded.
  std::string query{};
  std::vector<std::pair<std::string, std::string>> params{};
};

class Route {
 public:
  // Throws std::invalid_argument when the key rules are unusable.
  explicit Route(RouteConfig config);

  const RouteConfig& config() const noexcept { return config_; }
  const std::string& name() const noexcept { return config_.name; }
  // Whether this route takes `path` (the target's path): the prefix itself or below it.
  bool takes(std::string_view path) const noexcept;

  // The request split for the route. 400 bad_target: not an origin-form target, bad
  // percent-encoding, a "." or ".." segment (it could climb out of the upstream's base path), or
  // control bytes.
  std::variant<RouteRequest, ApiError> parse(const Request& req) const;
  // The cache key. Fails with invalid_argument / invalid_key (the key is too long).
  Result<std::string> key_for(const RouteRequest& in, const Request& req) const;
  // The request sent upstream: method, path below the prefix and query as they came (Upstream
  // puts its base path in front), the forwarded and configured headers, the body for methods
  // that have one.
  Request upstream_request(const RouteRequest& in, const Request& req) const;
  // The date parameter's value, for the TTL policy's date rules.
  std::optional<std::chrono::sys_days> date_of(const RouteRequest& in) const;
  bool cacheable_status(unsigned status) const noexcept;

 private:
  RouteConfig config_;
  cache::KeySchema schema_;
  // The key's pseudo-field of each key header ("__h_<name>"), in key_headers' order.
  std::vector<std::string> header_fields_;
};

}  // namespace tiercache::server::proxy
