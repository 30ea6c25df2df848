// Route: prefix matching, parsing a target safely, and the key and upstream request.

#include "server/proxy/route.hpp"

#include "tiercache/cache/ttl_policy.hpp"

#include <boost/url/parse.hpp>

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

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

Route::Route(RouteConfig config) : config_(std::move(config)), schema_("GET") {
  schema_.part("{__path}");
  schema_.field(std::string(kPathField), {.trim = false, .default_value = "/"});
  for (const auto& param : config_.params) schema_.field(param.name, param.rule);
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
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return bad("the request target is not a valid path and query");
  RouteRequest out;
  const std::string_view encoded_path = url->encoded_path();
  if (!takes(encoded_path)) return bad("the path is not below " + config_.prefix);
  out.path_below = std::string(encoded_path.substr(config_.prefix.size()));
  for (const auto segment : url->segments()) {
    if (segment == "." || segment == "..") return bad("the path has a \".\" or \"..\" segment");
    if (has_control(segment)) return bad("the path has control bytes");
  }
  out.decoded_path_below = boost::urls::pct_string_view(out.path_below).decode();
  if (url->has_query()) out.query = std::string(url->encoded_query());
  for (const auto param : url->params()) {
    if (param.key.starts_with("__")) return bad("query parameter names may not start with \"__\"");
    if (has_control(param.key) || has_control(param.value)) {
      return bad("a query parameter has control bytes");
    }
    out.params.emplace_back(param.key, param.value);
  }
  return out;
}

Result<std::string> Route::key_for(const RouteRequest& in, const Request& req) const {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(in.params.size() + 1 + config_.key_headers.size());
  pairs.emplace_back(kPathField, in.decoded_path_below);
  for (const auto& param : in.params) {
    const bool listed = std::any_of(config_.params.begin(), config_.params.end(),
                                    [&](const ParamRule& r) { return r.name == param.first; });
    if (config_.ignore_unlisted_params && !listed) continue;
    pairs.emplace_back(param.first, param.second);
  }
  std::vector<std::string> header_names;  // keeps the pseudo-names alive for `pairs`
  header_names.reserve(config_.key_headers.size());
  for (const auto& header : config_.key_headers) {
    header_names.push_back(header_field(header));
    auto it = req.find(header);
    pairs.emplace_back(header_names.back(),
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
