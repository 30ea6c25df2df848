#include "tiercache/redis/error.hpp"

#include <string>

namespace tiercache::redis {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.redis"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::connect_timeout:
        return "Redis: no connection within connect_timeout (is the server up and reachable?)";
      case Errc::connect_failed:
        return "Redis: connection refused or the host is unreachable (check host, port and "
               "firewall)";
      case Errc::reply_timeout:
        return "Redis: no reply within the request timeout (server slow, paused or overloaded)";
      case Errc::connection_lost:
        return "Redis: the connection dropped after the request was sent; it may or may not have "
               "run";
      case Errc::not_connected:
        return "Redis: the server is unreachable right now and the client is reconnecting";
      case Errc::protocol_error:
        return "Redis: the server sent bytes that are not valid RESP; the connection was rebuilt";
      case Errc::auth_failed:
        return "Redis: AUTH rejected: wrong password or unknown user";
      case Errc::permission_denied:
        return "Redis: the ACL user may not run this command or touch this key (NOPERM)";
      case Errc::tls_failed:
        return "Redis: TLS handshake failed (untrusted or mismatched certificate, or no TLS there)";
      case Errc::handshake_failed:
        return "Redis: HELLO, SELECT or CLIENT SETNAME failed (wrong database number?)";
      case Errc::invalid_url:
        return "Redis: the URL or environment does not describe a Redis server";
      case Errc::stopped:
        return "Redis: the client was stopped before the request completed";
      case Errc::queue_full:
        return "Redis: too many requests pending on the connection (max_pending)";
      case Errc::script_error:
        return "Redis: the Lua script raised an error";
    }
    return "Redis: unknown error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::redis
