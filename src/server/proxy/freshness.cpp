// Freshness: Cache-Control directives are read from every Cache-Control field of the message,
// case-insensitively, with quoted values allowed; a directive with a malformed value counts as
// absent, except that a malformed max-age makes the response stale (RFC 9111 4.2.1 and 5.2).

#include "server/proxy/freshness.hpp"

#include <boost/beast/core/string.hpp>

#include <charconv>
#include <ctime>
#include <string>
#include <string_view>

namespace tiercache::server::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Directives {
  bool no_store = false;
  bool no_cache = false;
  bool is_private = false;
  std::optional<seconds> s_maxage, max_age, swr, sie;
  bool bad_max_age = false;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<seconds> delta_seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || end != v.data() + v.size()) return std::nullopt;
  // RFC 9111 1.2.2: a delta too large to represent is 2^31 seconds.
  if (ec == std::errc::result_out_of_range || n > (std::uint64_t{1} << 31)) {
    n = std::uint64_t{1} << 31;
  }
  return seconds(static_cast<std::int64_t>(n));
}

// Calls f(name, value) per directive of every `field` header of `message`.
template <class Message, class F>
void for_each_directive(const Message& message, http::field field, F f) {
  for (const auto& header : message) {  // not equal_range: Beast keeps arrival order
    if (header.name() != field) continue;
    std::string_view rest = header.value();
    while (!rest.empty()) {
      // Commas inside quoted values are rare in Cache-Control; split on every comma but skip
      // over a quoted span so that `no-cache="a, b"` stays one directive.
      std::size_t i = 0;
      bool quoted = false;
      while (i < rest.size() && (quoted || rest[i] != ',')) {
        if (rest[i] == '"') quoted = !quoted;
        ++i;
      }
      const std::string_view item = trim(rest.substr(0, i));
      rest.remove_prefix(i < rest.size() ? i + 1 : i);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      f(trim(item.substr(0, eq)),
        eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1)));
    }
  }
}

Directives response_directives(const Response& res) {
  Directives d;
  for_each_directive(res, http::field::cache_control,
                     [&](std::string_view name, std::string_view value) {
                       using boost::beast::iequals;
                       if (iequals(name, "no-store")) {
                         d.no_store = true;
                       } else if (iequals(name, "no-cache")) {
                         d.no_cache = true;
                       } else if (iequals(name, "private")) {
                         d.is_private = true;
                       } else if (iequals(name, "s-maxage")) {
                         d.s_maxage = delta_seconds(value);
                       } else if (iequals(name, "max-age")) {
                         d.max_age = delta_seconds(value);
                         d.bad_max_age = !d.max_age;
                       } else if (iequals(name, "stale-while-revalidate")) {
                         d.swr = delta_seconds(value);
                       } else if (iequals(name, "stale-if-error")) {
                         d.sie = delta_seconds(value);
                       }
                     });
  return d;
}

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> http_date(std::string_view text) {
  std::tm tm{};
  const std::string copy(text);
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

OriginFreshness origin_freshness(const Response& res, std::chrono::system_clock::time_point now) {
  const Directives d = response_directives(res);
  OriginFreshness out;
  if (d.no_store || d.no_cache || d.is_private) out.storable = false;
  if (d.s_maxage) {
    out.fresh = *d.s_maxage;
  } else if (d.max_age || d.bad_max_age) {
    out.fresh = d.max_age.value_or(seconds(0));
  } else if (auto expires = res.find(http::field::expires); expires != res.end()) {
    // An invalid Expires (often "0") means already expired (RFC 9111 5.3).
    const auto at = http_date(expires->value());
    auto base = now;
    if (auto date = res.find(http::field::date); date != res.end()) {
      if (auto sent = http_date(date->value())) base = *sent;
    }
    out.fresh = at ? std::chrono::duration_cast<milliseconds>(*at - base) : milliseconds(0);
  }
  if (out.fresh) {
    if (auto age = res.find(http::field::age); age != res.end()) {
      if (auto a = delta_seconds(age->value())) *out.fresh -= *a;
    }
    if (*out.fresh <= milliseconds(0)) out.storable = false;
  }
  if (d.swr) out.stale_while_revalidate = *d.swr;
  if (d.sie) out.stale_if_error = *d.sie;
  return out;
}

bool client_bypasses_cache(const Request& req) {
  bool bypass = false;
  for_each_directive(req, http::field::cache_control,
                     [&](std::string_view name, std::string_view value) {
                       using boost::beast::iequals;
                       if (iequals(name, "no-cache") || iequals(name, "no-store")) bypass = true;
                       if (iequals(name, "max-age") && delta_seconds(value) == seconds(0)) {
                         bypass = true;
                       }
                     });
  for_each_directive(req, http::field::pragma, [&](std::string_view name, std::string_view) {
    if (boost::beast::iequals(name, "no-cache")) bypass = true;
  });
  return bypass;
}

}  // namespace tiercache::server::proxy
