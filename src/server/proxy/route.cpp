// Route: prefix matching, parsing a target safely, and the key and upstream request.
//
// parse() runs on every proxied request, hits included, so it is one scan of the target rather
// than a Boost.URL parse (which cost ~10% of a hit's instructions, bench/README.md). It accepts
// what boost::urls::parse_origin_form accepts (RFC 3986 origin-form: pchars, '/' in the path,
// '/' and '?' in the query, %XX escapes) and decodes as Boost.URL does (query keys and values
// with '+' as space, the path without); proxy_route_parse_test.cpp checks both against each other
// on random targets. One difference, on the safe side: Boost.URL hides a leading "/." segment (its
// own encoding of a path that starts with "//"), which this scan refuses like any "." segment.

#include "server/proxy/route.hpp"

#include "tiercache/cache/ttl_policy.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>

namespace tiercache::server::proxy {
namespace {

// Pseudo-parameters of the key: the path, and each key header. Real query parameter names may
// not start with "__" (parse refuses them), so none can pass for these.
constexpr std::string_view kPathField = "__path";

std::string header_field(std::string_view header) {
  std::string name = "__h_";
  for (char c : header) name += c == '-' ? '_' : c;
  return name;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return is_control(c); });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 pchar, less pct-encoded: unreserved, sub-delims, ':' and '@'.
bool is_pchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

// Whether `text` is pchars, `extra` and well-formed %XX escapes only.
bool valid_chars(std::string_view text, std::string_view extra) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      if (hex_digit(text[i + 1]) < 0 || hex_digit(text[i + 2]) < 0) return false;
      i += 2;
    } else if (!is_pchar(c) && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// `text` percent-decoded (REQUIRES: valid_chars), '+' as space when `plus_is_space`.
std::string decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// What one encoded path segment decodes to, as far as the checks go: "." or "..", or control bytes.
enum class Segment { plain, dot, control };
Segment classify(std::string_view segment) {
  std::size_t dots = 0;
  bool only_dots = true;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    char c = segment[i];
    if (c == '%') {
      c = static_cast<char>(hex_digit(segment[i + 1]) * 16 + hex_digit(segment[i + 2]));
      i += 2;
      if (is_control(static_cast<unsigned char>(c))) return Segment::control;
    }
    if (c == '.') {
      ++dots;
    } else {
      only_dots = false;
    }
  }
  return only_dots && (dots == 1 || dots == 2) ? Segment::dot : Segment::plain;
}

}  // namespace

Route::Route(RouteConfig config) : config_(std::move(config)), schema_("GET") {
  schema_.part("{__path}");
  schema_.field(std::string(kPathField), {.trim = false, .default_value = "/"});
  for (const auto& param : config_.params) schema_.field(param.name, param.rule);
  for (const auto& header : config_.key_headers) header_fields_.push_back(header_field(header));
}

bool Route::takes(std::string_view path) const noexcept {
  const std::string_view prefix = config_.prefix;
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::variant<RouteRequest, ApiError> Route::parse(const Request& req) const {
  const auto bad = [](std::string message) {
    return ApiError::bad_request("bad_target", std::move(message));
  };
  const std::string_view target = req.target();
  const std::size_t question = target.find('?');
  const std::string_view encoded_path = target.substr(0, question);
  const bool has_query = question != std::string_view::npos;
  const std::string_view query = has_query ? target.substr(question + 1) : std::string_view();
  if (encoded_path.empty() || encoded_path.front() != '/' || !valid_chars(encoded_path, "/") ||
      !valid_chars(query, "/?")) {
    return bad("the request target is not a valid path and query");
  }
  RouteRequest out;
  if (!takes(encoded_path)) return bad("the path is not below " + config_.prefix);
  out.path_below = std::string(encoded_path.substr(config_.prefix.size()));
  for (std::size_t start = 1; start <= encoded_path.size();) {
    const std::size_t end = std::min(encoded_path.find('/', start), encoded_path.size());
    const Segment segment = classify(encoded_path.substr(start, end - start));
    if (segment == Segment::dot) return bad("the path has a \".\" or \"..\" segment");
    if (segment == Segment::control) return bad("the path has control bytes");
    start = end + 1;
  }
  out.decoded_path_below = decode(out.path_below, false);
  if (!has_query) return out;
  out.query = std::string(query);
  // Each '&'-separated piece is a parameter (an empty query is one, with an empty name), its
  // name before the first '='.
  out.params.reserve(static_cast<std::size_t>(std::count(query.begin(), query.end(), '&')) + 1);
  for (std::size_t start = 0; start <= query.size();) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view piece = query.substr(start, end - start);
    const std::size_t equals = piece.find('=');
    std::string name = decode(piece.substr(0, equals), true);
    std::string value =
        equals == std::string_view::npos ? std::string() : decode(piece.substr(equals + 1), true);
    if (name.starts_with("__")) return bad("query parameter names may not start with \"__\"");
    if (has_control(name) || has_control(value)) return bad("a query parameter has control bytes");
    out.params.emplace_back(std::move(name), std::move(value));
    start = end + 1;
  }
  return out;
}

Result<std::string> Route::key_for(const RouteRequest& in, const Request& req) const {
  boost::container::small_vector<std::pair<std::string_view, std::string_view>, 8> pairs;
  pairs.emplace_back(kPathField, in.decoded_path_below);
  for (const auto& param : in.params) {
    const bool listed = std::any_of(config_.params.begin(), config_.params.end(),
                                    [&](const ParamRule& r) { return r.name == param.first; });
    if (config_.ignore_unlisted_params && !listed) continue;
    pairs.emplace_back(param.first, param.second);
  }
  for (std::size_t i = 0; i < config_.key_headers.size(); ++i) {
    auto it = req.find(config_.key_headers[i]);
    pairs.emplace_back(header_fields_[i],
                       it == req.end() ? std::string_view{} : std::string_view(it->value()));
  }
  return schema_.build(cache::KeySchema::Pairs(pairs));
}

Request Route::upstream_request(const RouteRequest& in, const Request& req) const {
  // "" or "?q" when the request named the prefix itself: Upstream sends the base path then.
  std::string target = in.path_below;
  if (!in.query.empty()) target += "?" + in.query;
  Request out{req.method(), target, 11};
  for (const auto& name : config_.forward_headers) {
    if (auto it = req.find(name); it != req.end()) out.set(name, it->value());
  }
  for (const auto& [name, value] : config_.upstream_headers) out.set(name, value);
  out.set(http::field::user_agent, "tiercached");
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    if (auto it = req.find(http::field::content_type); it != req.end()) {
      out.set(http::field::content_type, it->value());
    }
    out.body() = req.body();
    out.prepare_payload();
  }
  return out;
}

std::optional<std::chrono::sys_days> Route::date_of(const RouteRequest& in) const {
  if (config_.date_param.empty()) return std::nullopt;
  for (const auto& [name, value] : in.params) {
    if (name == config_.date_param) return cache::parse_date(value);
  }
  return std::nullopt;
}

bool Route::cacheable_status(unsigned status) const noexcept {
  const auto& statuses = config_.cacheable_statuses;
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

}  // namespace tiercache::server::proxy
