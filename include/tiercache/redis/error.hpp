#pragma once
// redis::Errc: why a Redis operation failed, distinct per cause so callers can act on each one.
// Category "tiercache.redis". A Redis error *reply* (-ERR ...) is not one of these: it is a
// Reply value with is_error(). Use: if (ec == redis::Errc::reply_timeout) breaker.record_timeout();

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::redis {

enum class Errc {
  connect_timeout = 1,  // no connection (TCP, TLS and handshake) within connect_timeout
  connect_failed,       // the server refused or could not be reached (see the log for the cause)
  reply_timeout,        // no reply within the request timeout; the link stays up
  connection_lost,      // the link dropped after the request was sent; it may or may not have run
  not_connected,   // the server is unreachable right now (reconnecting); the request was not sent
                   // (after an auth, ACL or TLS refusal: that error instead, until it connects)
  protocol_error,  // the server sent bytes that are not valid RESP; the link was rebuilt
  auth_failed,     // AUTH rejected: wrong password or unknown user
  permission_denied,  // the ACL user may not run this command or touch this key (NOPERM)
  tls_failed,         // TLS handshake failed: untrusted or mismatched certificate, or no TLS there
  handshake_failed,   // HELLO, SELECT or CLIENT SETNAME answered with an error
  invalid_url,        // the Redis URL or environment does not describe a server (see the message)
  stopped,            // the client was stopped or destroyed before the request completed
  queue_full,         // more requests waiting than Config::max_pending allows
  script_error,       // a Lua script raised an error (the reply carries Redis's text)
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::redis

template <>
struct boost::system::is_error_code_enum<tiercache::redis::Errc> : std::true_type {};
