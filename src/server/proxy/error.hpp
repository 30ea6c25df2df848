#pragma once
// proxy::Errc: why the caching proxy got no response from an upstream, one value per cause a
// person can act on. Category "tiercache.proxy". An upstream's 404 or 503 is a response, not an
// error; upstream_error_status is for the proxy's own decisions about one.
// Use: if (r.error() == proxy::Errc::upstream_timeout) return gateway_timeout();
// Thread-safety: values and a static category; safe from any thread.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::server::proxy {

enum class Errc {
  // The upstream's host did not resolve, refused the connection, or failed the TLS handshake
  // (certificate not trusted or not for that host): check the route's URL, ca_file and that the
  // upstream is up.
  upstream_unreachable = 1,
  // The upstream did not connect within connect_timeout or answer whole within timeout: it is
  // overloaded or hung; raise the timeouts only if it is merely slow.
  upstream_timeout,
  // The upstream sent bytes that are not HTTP/1.x, or closed the connection mid-response: is the
  // route's URL pointing at an HTTP server (and http vs https right)?
  upstream_bad_response,
  // The upstream's response body is larger than max_body_bytes: raise the limit or do not proxy
  // that path.
  upstream_body_too_large,
  // The upstream answered 5xx or 429: it is failing or shedding load; its status is logged.
  upstream_error_status,
  // All max_connections to the upstream were in use and none was freed within the timeout:
  // raise max_connections or make the upstream faster.
  upstream_saturated,
  // The upstream URL is not http(s)://host[:port][/path] (no query or fragment, port 1-65535).
  invalid_upstream_url,
  // tiercached is shutting down: the upstream call was abandoned (a background refresh then
  // ends without storing; the cached entry stays as it was). Nothing to fix.
  upstream_closed,
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::server::proxy

template <>
struct boost::system::is_error_code_enum<tiercache::server::proxy::Errc> : std::true_type {};
