#include "server/dashboard/routes.hpp"

#include "server/dashboard/assets.hpp"
#include "server/dashboard/history.hpp"
#include "server/etag.hpp"
#include "server/rest_api.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>

namespace tiercache::server::dashboard {
namespace {

// The page runs only its own script and style and talks only to the daemon that served it: an
// injected string can neither run nor send the admin token elsewhere.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

Response file_response(const Request& req, const Asset& asset) {
  const auto inm = req.find(http::field::if_none_match);
  const bool not_modified = inm != req.end() && if_none_match(inm->value(), asset.etag);
  Response res{not_modified ? http::status::not_modified : http::status::ok, req.version()};
  res.set(http::field::etag, asset.etag);
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  if (asset.content_type.starts_with("text/html")) {
    res.set("Content-Security-Policy", kPagePolicy);
    res.set("X-Frame-Options", "DENY");
  }
  res.keep_alive(req.keep_alive());
  if (!not_modified) {
    res.set(http::field::content_type, asset.content_type);
    res.body() = std::string(asset.body);
  }
  res.prepare_payload();
  return res;
}

Response data_response(const Services& services, const Request& req, const Match& m) {
  std::uint64_t since = 0;
  for (const auto& [k, v] : m.query) {
    if (k != "since") {
      return error_response(
          req, ApiError::bad_request("unknown_parameter",
                                     "unknown query parameter '" + k + "' (known: since)"));
    }
    const auto* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, since);
    if (v.empty() || ec != std::errc{} || ptr != end) {
      return error_response(
          req, ApiError::bad_request("invalid_argument",
                                     "since must be a sample's seq (a non-negative integer)"));
    }
  }
  if (!services.dashboard) {
    return error_response(req, ApiError{http::status::service_unavailable, "dashboard_unavailable",
                                        "the dashboard's history is off"});
  }
  auto res = json_response(req, http::status::ok,
                           boost::json::serialize(services.dashboard->report(since)));
  res.set(http::field::cache_control, "no-store");
  return res;
}

}  // namespace

void add_routes(Router& router) {
  router.add(http::verb::get, "/", page);
  router.add(http::verb::get, "/dashboard", page_alias);
  router.add(http::verb::get, "/dashboard/{file}", file);
  router.add(http::verb::get, "/v1/dashboard", data);
}

bool owns(int route) noexcept { return route >= page && route <= data; }

Response handle(const Services& services, const Request& req, const Match& m) {
  if (m.route == data) return data_response(services, req, m);
  const std::string_view name = m.route == file ? std::string_view(m.param("file")) : "index.html";
  const Asset* asset = find_asset(name);
  if (asset == nullptr) {
    return error_response(
        req, ApiError::not_found("route_not_found",
                                 "the dashboard has no file '" + std::string(name) + "'"));
  }
  return file_response(req, *asset);
}

}  // namespace tiercache::server::dashboard
