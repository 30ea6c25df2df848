#pragma once
// A running tiercached for one test: a Daemon on a free port of 127.0.0.1 (port 0), two I/O
// threads, access log off, optionally on a private redis-server; plus a client for it.
// Use: DaemonUnderTest d(with_redis(server)); auto res = d.client().request(...);

#include "server/daemon.hpp"
#include "tests/server/http_client.hpp"
#include "tests/support/redis_server.hpp"

#include <memory>

namespace tiercache::test {

using server::Config;
using server::NamespaceConfig;

// A config for tests: namespaces "users" and "tiny" (l1 off, small values).
inline Config test_config() {
  Config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.threads = 2;
  c.access_log = "off";
  c.log_level = "warn";
  c.limits.drain_timeout = std::chrono::seconds(10);
  c.namespaces.push_back(NamespaceConfig{.name = "users"});
  c.namespaces.push_back(NamespaceConfig{.name = "nol1",
                                         .default_ttl = std::chrono::minutes(5),
                                         .grace = std::chrono::minutes(1),
                                         .max_ttl = std::chrono::hours(1),
                                         .l1_bytes = 0,
                                         .max_value_size = 1024});
  return c;
}

inline Config with_redis(const RedisServer& redis, Config c = test_config()) {
  c.redis = redis.config();
  return c;
}

class DaemonUnderTest {
 public:
  explicit DaemonUnderTest(Config config)
      : daemon_(std::make_unique<server::Daemon>(std::move(config))) {
    daemon_->start();
    client_ = std::make_unique<HttpClient>(daemon_->port());
  }
  ~DaemonUnderTest() {
    client_.reset();
    daemon_->stop();
  }
  server::Daemon& daemon() { return *daemon_; }
  HttpClient& client() { return *client_; }
  std::uint16_t port() const { return daemon_->port(); }

 private:
  std::unique_ptr<server::Daemon> daemon_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace tiercache::test
