#pragma once
// Redis URLs and environment, parsed into a redis::Config with Boost.URL.
//   redis://[[user][:password]@]host[:port][/db][?option=value&...]
//   rediss://...                       (TLS; query options ca_file, cert_file, key_file,
//                                       server_name, verify_peer=false)
//   unix:///path/to/redis.sock[?db=N&...]
// Query options for all: connect_timeout, request_timeout, link_timeout (milliseconds, or with a
// unit: 250ms, 2s), connections, client_name, protocol (2 or 3), db. Percent-encoding is decoded.
// Use: Result<redis::Config> cfg = redis::parse_url(url); if (!cfg) fail(cfg.error().message());

#include "tiercache/base/result.hpp"
#include "tiercache/redis/config.hpp"

#include <string>
#include <string_view>

namespace tiercache::redis {

// Errors: Errc::invalid_url; `why` (if given) receives a sentence naming the bad part.
[[nodiscard]] Result<Config> parse_url(std::string_view url, std::string* why = nullptr);

// REDIS_URL if set; else REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD (and REDIS_USERNAME)
// over the defaults, as the services we serve already configure themselves.
[[nodiscard]] Result<Config> config_from_env(std::string* why = nullptr);

// The URL that parse_url reads back to the same Config, with the password masked as "***"
// unless show_password.
std::string to_url(const Config& config, bool show_password = false);

}  // namespace tiercache::redis
