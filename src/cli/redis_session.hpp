#pragma once
// RedisSession: the command's own link to Redis (--redis URL), for the commands that make sense
// without a daemon. Values go through the library's cache::Cache (one per namespace, L1 off), so
// entries, TTLs, tags and invalidation are exactly what tiercached writes and reads.
// Use: RedisSession s(*RedisTarget::parse(url, &why), timeout);
//      Result<cache::ReadResult> r = s.run(s.cache("users").get("alice"));
// Thread-safety: run() from any thread but the session's own; cache() and close from one thread.

#include "tiercache/base/result.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/redis/any_client.hpp"
#include "tiercache/redis/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace tiercache::cli {

namespace asio = boost::asio;

// Where --redis points: one server or a cluster (redis::parse_deployment_url), as the daemon's
// own --redis reads it.
struct RedisTarget {
  redis::Deployment deployment;
  std::string text;  // for messages: the URL with its password masked

  // nullopt (and *why set) when `url` is not a Redis URL.
  static std::optional<RedisTarget> parse(std::string_view url, std::string* why);
  // Every server it names is this machine (bench refuses others unless asked).
  bool loopback() const;
};

class RedisSession {
 public:
  // Starts the session's thread; nothing connects until first use. `timeout` bounds each
  // connection attempt and each reply.
  RedisSession(RedisTarget target, std::chrono::milliseconds timeout);
  // Stops the clients and joins the thread (at most ~5 s when Redis hangs).
  ~RedisSession();
  RedisSession(const RedisSession&) = delete;
  RedisSession& operator=(const RedisSession&) = delete;

  // Runs `op` on the session's thread and waits for it. An exception in `op` is rethrown here.
  template <class T>
  T run(asio::awaitable<T> op) {
    return asio::co_spawn(io_, std::move(op), asio::use_future).get();
  }

  // The namespace's cache, made on first use: L1 off (a short-lived process would only serve
  // itself stale copies), client tracking on, the library's default TTLs.
  // Throws std::invalid_argument for a namespace the library refuses (spaces, glob characters).
  cache::Cache& cache(const std::string& ns);
  // A plain client (no cache on it) for PING, INFO and SCAN; started on first use.
  std::shared_ptr<redis::AnyClient> client();
  // PING on the plain client: success, or why Redis cannot be used (connect_failed,
  // connect_timeout, auth_failed, tls_failed, ...). Commands call it first, so that the error
  // they report is Redis's own and not the cache's summary (redis_unavailable).
  error_code ping();

  const RedisTarget& target() const noexcept { return target_; }
  asio::io_context& io() noexcept { return io_; }

 private:
  std::shared_ptr<redis::AnyClient> make_client(std::string client_name, bool tracking);

  RedisTarget target_;
  std::chrono::milliseconds timeout_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::promise<void> finished_;  // set when io_.run() returns
  std::thread thread_;
  std::map<std::string, std::unique_ptr<cache::Cache>> caches_;
  std::shared_ptr<redis::AnyClient> client_;
};

}  // namespace tiercache::cli
