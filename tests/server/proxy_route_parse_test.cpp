// Route::parse scans the target itself (no Boost.URL on a hit, issue #7). Here it is checked
// against the Boost.URL parse it replaced, on random targets: the same targets refused, the same
// path, query and decoded parameters for the rest.

#include "server/proxy/route.hpp"

#include <boost/url/parse.hpp>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <variant>

namespace tiercache::server::proxy {
namespace {

Request get(std::string_view target) { return Request{http::verb::get, target, 11}; }

bool has_control(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// The former Route::parse, on Boost.URL: nullopt when it refused the target.
std::optional<RouteRequest> reference_parse(const RouteConfig& cfg, const Route& route,
                                            std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  RouteRequest out;
  const std::string_view encoded_path = url->encoded_path();
  if (!route.takes(encoded_path)) return std::nullopt;
  out.path_below = std::string(encoded_path.substr(cfg.prefix.size()));
  for (const auto segment : url->segments()) {
    if (segment == "." || segment == ".." || has_control(segment)) return std::nullopt;
  }
  out.decoded_path_below = boost::urls::pct_string_view(out.path_below).decode();
  if (url->has_query()) out.query = std::string(url->encoded_query());
  for (const auto param : url->params()) {
    if (param.key.starts_with("__") || has_control(param.key) || has_control(param.value)) {
      return std::nullopt;
    }
    out.params.emplace_back(param.key, param.value);
  }
  return out;
}

void expect_same(const RouteConfig& cfg, const Route& route, const std::string& target) {
  const auto expected = reference_parse(cfg, route, target);
  const auto got = route.parse(get(target));
  const auto* parsed = std::get_if<RouteRequest>(&got);
  if (!expected) {
    // Boost.URL hides a leading "/." segment (its way to write a path starting "//"); the scan
    // refuses it like any "." segment. Anything else it refuses, the scan must refuse too.
    EXPECT_EQ(parsed, nullptr) << "accepted: [" << target << "]";
    return;
  }
  ASSERT_NE(parsed, nullptr) << "refused: [" << target << "]";
  EXPECT_EQ(parsed->path_below, expected->path_below) << target;
  EXPECT_EQ(parsed->decoded_path_below, expected->decoded_path_below) << target;
  EXPECT_EQ(parsed->query, expected->query) << target;
  EXPECT_EQ(parsed->params, expected->params) << target;
}

TEST(ProxyRouteParseTest, AgreesWithBoostUrlOnRandomTargets) {
  const RouteConfig cfg{.name = "w", .prefix = "/w", .upstream = "http://h"};
  const Route route(cfg);
  // Characters of every class: unreserved, sub-delims, gen-delims, escapes (good and bad), dots,
  // controls, bytes RFC 3986 leaves out, UTF-8.
  static constexpr std::string_view kPieces[] = {
      "a",    "Z",        "0",   "-",   "_",   "~",   ".",    "..",      "!",      "$",
      "&",    "'",        "(",   ")",   "*",   "+",   ",",    ";",       "=",      ":",
      "@",    "/",        "?",   "#",   "[",   "]",   " ",    "\"",      "<",      ">",
      "\\",   "^",        "`",   "{",   "|",   "}",   "%",    "%2",      "%20",    "%2e",
      "%2E",  "%2F",      "%00", "%0a", "%7f", "%7F", "%41",  "%zz",     "%C3%A9", "\x01",
      "\x7f", "\xc3\xa9", "__",  "=&",  "/w",  "/w/", "?a=1", "&b=2&b=3"};
  std::mt19937 rng(7);
  const auto below = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  for (int round = 0; round < 20000; ++round) {
    std::string target = below(8) == 0 ? "" : "/w";
    const std::size_t pieces = below(8);
    for (std::size_t i = 0; i < pieces; ++i) target += kPieces[below(std::size(kPieces))];
    expect_same(cfg, route, target);
    if (HasFailure()) return;
  }
}

TEST(ProxyRouteParseTest, AgreesWithBoostUrlOnChosenTargets) {
  const RouteConfig cfg{.name = "w", .prefix = "/w", .upstream = "http://h"};
  const Route route(cfg);
  for (const std::string target : {"/w",
                                   "/w/",
                                   "/w?",
                                   "/w?&",
                                   "/w?a",
                                   "/w?a=",
                                   "/w?=b",
                                   "/w?a=b=c&d",
                                   "/w?x+y=%2B+z",
                                   "/w/a+b/%20c",
                                   "/w?[x]=1",
                                   "/w#f",
                                   "/w?b#f",
                                   "/w/%2e%2E/b",
                                   "/w/%2e%2e%2e",
                                   "/w/.a",
                                   "/w a",
                                   "/w?q=%zz",
                                   "/w%2",
                                   "/w/%",
                                   "/w?x=%00",
                                   "/w?x==&=y",
                                   "/w'!$&()*,;=:@~-._",
                                   "/w?__x=1",
                                   "/w?%5F_x=1",
                                   "/w?a=1&__b",
                                   "/w/%2F..",
                                   "/w//x",
                                   "/w/./x",
                                   "/w/..",
                                   "/wx",
                                   "/x",
                                   "*",
                                   "http://h/w",
                                   "",
                                   "/w?x=\xc3\xa9",
                                   "/w/\x01",
                                   "/w?\x7f"}) {
    expect_same(cfg, route, target);
  }
}

}  // namespace
}  // namespace tiercache::server::proxy
