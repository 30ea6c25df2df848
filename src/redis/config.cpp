#include "tiercache/redis/config.hpp"

#include <string>

namespace tiercache::redis {

std::string Config::describe() const {
  if (!unix_socket.empty()) return "unix:" + unix_socket;
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string address = (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  return tls.enabled ? "tls " + address : address;
}

}  // namespace tiercache::redis
