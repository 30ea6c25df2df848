#pragma once
// Router: maps a method and a request target to a route id and its path parameters. Patterns
// are literal segments and `{name}` segments; a `{name}` matches exactly one non-empty segment,
// percent-decoded (so a key may hold "/" as %2F). The query string is decoded alongside.
// Use: router.add(http::verb::get, "/v1/cache/{ns}/{key}", RouteId::cache_get);
//      auto m = router.match(req.method(), req.target());  // Match, or an ApiError 400/404/405
// Thread-safety: add() before use; match() is const and safe from any thread.

#include "server/api_error.hpp"
#include "server/http_types.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tiercache::server {

struct Match {
  int route = -1;
  // Path parameters by name ({ns} -> "ns"), decoded.
  std::map<std::string, std::string, std::less<>> params{};
  // Query parameters in order, decoded; a name may repeat.
  std::vector<std::pair<std::string, std::string>> query{};
  // The matched pattern, for logs and metrics labels (no user data in it).
  std::string_view pattern{};

  const std::string& param(std::string_view name) const;
  // The values of a query parameter, in order.
  std::vector<std::string_view> query_all(std::string_view name) const;
};

class Router {
 public:
  // REQUIRES: pattern starts with '/'; each (method, pattern) once.
  void add(http::verb method, std::string pattern, int route);

  // The route for this request. Errors: 400 bad_target (not an origin-form target, bad
  // percent-encoding), 404 route_not_found, 405 method_not_allowed (message lists the allowed
  // methods; `allow` receives them for the Allow header when given).
  std::variant<Match, ApiError> match(http::verb method, std::string_view target,
                                      std::string* allow = nullptr) const;

 private:
  struct Route {
    http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    int id;
  };
  std::vector<Route> routes_;
};

}  // namespace tiercache::server
