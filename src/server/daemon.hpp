#pragma once
// Daemon: tiercached as an object: one io_context run by N threads (Redis, upstreams, timers),
// the HTTP server (N connection threads of its own), the REST API, the namespaces and Redis.
// start() binds and serves; stop() shuts down gracefully (stop accepting, drain in-flight
// requests within limits.drain_timeout, stop Redis and upstreams, join every thread, then
// destroy what is left, in the order daemon.cpp's opening comment gives).
// With no Redis configured, or none reachable at start, it serves from L1 alone and says so in
// the log and in /readyz.
// Use: Daemon d(config); d.start(); d.wait_for_signal();   // main: SIGTERM/SIGINT stop it
//      Daemon d(config); d.start(false); run_stdio(d.mcp_server(), d.executor(), 0, 1);  // mcp
//      Daemon d(config); d.start(); ... d.stop();         // tests
// Thread-safety: start() once, from one thread; stop() from any thread, idempotent.

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/health/monitor.hpp"
#include "tiercache/metrics/registry.hpp"

#include "server/access_log.hpp"
#include "server/config.hpp"
#include "server/http_server.hpp"
#include "server/io_context.hpp"
#include "server/mcp/http_transport.hpp"
#include "server/mcp/server.hpp"
#include "server/namespaces.hpp"
#include "server/proxy/proxy.hpp"
#include "server/rest_api.hpp"
#include "server/services.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tiercache::server {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();  // stop()
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Probes Redis, creates the namespaces, binds, starts the threads. Throws ConfigError for
  // options the cache refuses and boost::system::system_error when the address cannot be bound.
  // serve_http false: everything but the HTTP server (`tiercached mcp` speaks over stdio).
  void start(bool serve_http = true);
  // The bound port (after start).
  std::uint16_t port() const noexcept { return server_ ? server_->port() : 0; }
  bool l1_only() const noexcept { return services_.l1_only(); }
  RedisMode redis_mode() const noexcept { return services_.redis_mode; }
  const HttpServer& http() const { return *server_; }
  // The MCP server (after start), for the stdio transport.
  const mcp::McpServer& mcp_server() const { return *mcp_server_; }
  asio::any_io_executor executor() { return io_.get_executor(); }

  // Graceful shutdown; returns once every thread has stopped. Idempotent.
  void stop();
  // Blocks until SIGTERM or SIGINT, then stop()s.
  void wait_for_signal();

 private:
  void probe_redis();
  void start_limiters();
  void add_route_namespaces();
  void start_health_monitor();
  void start_calendar();
  void begin_stop();
  void on_drained();

  Config config_;
  // Redis clients, upstream pools, timers, the accept loop: everything but the connections,
  // which run on the HTTP server's own threads. Destroyed last; its handlers go before the
  // services (stop()).
  IoContext io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  metrics::Registry registry_;
  Services services_;
  std::unique_ptr<Namespaces> namespaces_;
  std::unique_ptr<proxy::Proxy> proxy_;
  std::unique_ptr<health::HealthMonitor> health_;
  std::vector<metrics::CallbackHandle> health_metrics_;
  // The MCP calendar tools' cache, its Redis client, and its cleanup timer (on a strand, so
  // shutdown can cancel it from any thread).
  std::shared_ptr<redis::AnyClient> calendar_redis_;
  std::unique_ptr<calendar::CalendarCache> calendar_;
  std::optional<asio::strand<asio::io_context::executor_type>> calendar_strand_;
  std::unique_ptr<asio::steady_timer> calendar_cleanup_;
  std::atomic<bool> calendar_stopping_{false};
  std::unique_ptr<mcp::McpServer> mcp_server_;
  std::unique_ptr<mcp::HttpTransport> mcp_http_;
  std::unique_ptr<RestApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_begun_ = false;        // guarded by mu_
  bool drained_ = false;           // guarded by mu_
  bool joined_ = false;            // guarded by mu_
  bool services_stopped_ = false;  // guarded by mu_: on_drained() ran, or stop() did it
};

}  // namespace tiercache::server
