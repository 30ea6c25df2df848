#pragma once
// Checks and reads what a client sends to the cache endpoints: keys, tags, TTLs and write
// options (from the query string, or X-Cache-* headers; the same option in both is an error),
// and JSON bodies (objects only, no unknown members). Every failure is a 400 ApiError that
// names the culprit, and nothing is stored.
// Use: auto opts = read_write_options(req, match, ns_config); if (auto* e = std::get_if<ApiError>..
// Thread-safety: pure functions.

#include "tiercache/cache/options.hpp"

#include "server/api_error.hpp"
#include "server/config.hpp"
#include "server/http_types.hpp"
#include "server/router.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <optional>
#include <string_view>
#include <variant>

namespace tiercache::server {

// A key: 1-1024 bytes, no control bytes (< 0x20, 0x7f), no "." or ".." path segment.
std::optional<ApiError> check_key(std::string_view key);
// A tag: 1-256 bytes, no control bytes, no comma (the header list separator).
std::optional<ApiError> check_tag(std::string_view tag);
// A TTL (or grace when `grace`): within 1 ms (0 for a grace) .. ns.max_ttl.
std::variant<std::chrono::milliseconds, ApiError> read_ttl(std::string_view text,
                                                           std::string_view field,
                                                           const NamespaceConfig& ns, bool grace);

// ttl, grace, tag (repeatable) or tags (comma list), dependency / dependencies, priority from
// the query or X-Cache-TTL, X-Cache-Grace, X-Cache-Tags, X-Cache-Dependencies,
// X-Cache-Priority. Any other query parameter is refused (400 unknown_parameter).
std::variant<cache::WriteOptions, ApiError> read_write_options(const Request& req, const Match& m,
                                                               const NamespaceConfig& ns);
// Refuses every query parameter (endpoints that take none).
std::optional<ApiError> no_query(const Match& m);

// The body as a JSON object (400 malformed_json otherwise), with only these members (400
// unknown_field).
std::variant<boost::json::object, ApiError> read_json_object(
    std::string_view body, std::initializer_list<std::string_view> allowed);
// A JSON array of strings (400 otherwise); at most `max` of them.
std::variant<std::vector<std::string>, ApiError> string_array(const boost::json::value& v,
                                                              std::string_view field,
                                                              std::size_t max);
// Write options from JSON members ttl, grace, tags, dependencies, priority of `obj`.
std::variant<cache::WriteOptions, ApiError> json_write_options(const boost::json::object& obj,
                                                               const NamespaceConfig& ns);

}  // namespace tiercache::server
