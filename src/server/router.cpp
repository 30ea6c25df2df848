#include "server/router.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <stdexcept>

namespace tiercache::server {
namespace {

std::vector<std::string> split(std::string_view pattern) {
  std::vector<std::string> out;
  std::size_t i = 1;
  while (i <= pattern.size()) {
    const auto slash = pattern.find('/', i);
    const auto end = slash == std::string_view::npos ? pattern.size() : slash;
    out.emplace_back(pattern.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

const std::string& Match::param(std::string_view name) const {
  static const std::string empty;
  const auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

std::vector<std::string_view> Match::query_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.emplace_back(v);
  }
  return out;
}

void Router::add(http::verb method, std::string pattern, int route) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("Router::add: pattern must start with '/'");
  }
  auto segments = split(pattern);
  routes_.push_back(Route{method, std::move(pattern), std::move(segments), route});
}

std::variant<Match, ApiError> Router::match(http::verb method, std::string_view target,
                                            std::string* allow) const {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return ApiError::bad_request(
        "bad_target", "the request target is not a valid path: " + parsed.error().message());
  }
  const boost::urls::url_view url = *parsed;
  std::vector<std::string> segments;
  for (auto s : url.segments()) segments.emplace_back(s);
  // "/" has one empty segment in the patterns' form; Boost.URL gives none.
  if (segments.empty()) segments.emplace_back();

  std::string allowed;
  const Route* found = nullptr;
  Match m;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      ok = is_param(route.segments[i]) ? !segments[i].empty() : route.segments[i] == segments[i];
    }
    if (!ok) continue;
    if (route.method != method) {
      const auto name = http::to_string(route.method);
      if (allowed.find(name) == std::string::npos) {
        allowed += (allowed.empty() ? "" : ", ") + std::string(name);
      }
      continue;
    }
    found = &route;
    break;
  }
  if (found == nullptr) {
    if (!allowed.empty()) {
      if (allow != nullptr) *allow = allowed;
      return ApiError{
          http::status::method_not_allowed, "method_not_allowed",
          std::string(http::to_string(method)) + " is not allowed here; allowed: " + allowed};
    }
    return ApiError::not_found("route_not_found", "no route for " + std::string(url.path()));
  }
  m.route = found->id;
  m.pattern = found->pattern;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& seg = found->segments[i];
    if (is_param(seg)) m.params.emplace(seg.substr(1, seg.size() - 2), std::move(segments[i]));
  }
  for (auto p : url.params()) {
    m.query.emplace_back(std::string(p.key), p.has_value ? std::string(p.value) : std::string());
  }
  return m;
}

}  // namespace tiercache::server
