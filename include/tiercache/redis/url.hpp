#pragma once
// Redis URLs and environment, parsed into a redis::Config with Boost.URL.
//   redis://[[user][:password]@]host[:port][/db][?option=value&...]
//   rediss://...                       (TLS; query options ca_file, cert_file, key_file,
//                                       server_name, verify_peer=false)
//   unix://[[user][:password]@]/path/to/redis.sock[?db=N&...]   (also unix:/path)
// Query options for all: connect_timeout, request_timeout, link_timeout (milliseconds, or with a
// unit: 250ms, 2s, 1m; at most a day), connections (1 to 1024), client_name, protocol (2 or 3),
// db. Percent-encoding is decoded everywhere ('+' stays a plus). Host: a name, an IPv4 address
// or an IPv6 address in brackets ([::1]); not a name that begins with an IPv4 address
// ("1.2.3.4.example.com": Boost.URL 1.81 misreads it); port 1 to 65535, default 6379. The database
// comes from the path (/2) or the db option, not both. Unknown or repeated options are errors.
// Redis Cluster: redis+cluster://[[user][:password]@]h1:p1,h2:p2[,...][?option=value&...] (and
// rediss+cluster://) names seed nodes, read by parse_deployment_url; the options are those above
// and apply to every node link; a cluster has only database 0.
// Use: Result<redis::Config> cfg = redis::parse_url(url); if (!cfg) fail(cfg.error().message());
// Thread-safety: plain functions; config_from_env reads the environment (do not setenv meanwhile).

#include "tiercache/base/result.hpp"
#include "tiercache/redis/config.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::redis {

// Errors: Errc::invalid_url; `why` (if given) receives a sentence naming the bad part, as
// "port 99999 is out of range (1-65535)" or "unknown option 'foo'". A cluster URL is an error
// here (one Config cannot name several nodes): see parse_deployment_url.
[[nodiscard]] Result<Config> parse_url(std::string_view url, std::string* why = nullptr);

struct ServerAddress {
  std::string host;
  std::uint16_t port = 6379;
  friend bool operator==(const ServerAddress&, const ServerAddress&) = default;
};

// What a URL names: one server, or a Redis Cluster by its seed nodes.
struct Deployment {
  // The settings of every link. For a cluster, host and port are the first seed's.
  Config config;
  // The seeds of a cluster URL, in the URL's order (duplicates removed); empty for one server.
  std::vector<ServerAddress> cluster_seeds;
  bool cluster() const noexcept { return !cluster_seeds.empty(); }
};

// Any URL parse_url reads, plus redis+cluster:// and rediss+cluster://. Errors as parse_url's.
[[nodiscard]] Result<Deployment> parse_deployment_url(std::string_view url,
                                                      std::string* why = nullptr);

// REDIS_URL if set; else REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD (and REDIS_USERNAME)
// over the defaults, as the services we serve already configure themselves. A variable set to
// the empty string counts as unset. Each value is checked as parse_url checks it; `why` names the
// variable at fault ("REDIS_PORT: port 'abc' is not a number").
[[nodiscard]] Result<Config> config_from_env(std::string* why = nullptr);

// The URL that parse_url reads back to the same Config, with the password masked as "***"
// unless show_password. Only the fields a URL can carry appear, and only those that differ from
// the defaults (reconnect backoff, max_pending, retry_idempotent and reader limits never do).
std::string to_url(const Config& config, bool show_password = false);

}  // namespace tiercache::redis
