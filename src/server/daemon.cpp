// Daemon: start-up order (Redis probe, namespaces, proxy, bind, threads) and the shutdown sequence
// (docs/decisions/0010-daemon.md). Two kinds of context refer to each other: a coroutine on a
// connection thread awaits Redis and upstream I/O that lives on io_, and those operations
// complete back onto the connection thread. So neither kind may stop while the other still has
// work for it, and no handler of either may be destroyed after the services it reaches.
//   1. stop accepting; idle keep-alive connections close at once (HttpServer::stop);
//   2. requests in flight finish and answer with Connection: close, for up to drain_timeout;
//   3. (on_drained) the proxy closes its upstreams, so a refresh in flight ends at once; the
//      namespaces drop their caches, whose destructors stop their Redis clients, so what awaits
//      Redis completes with Errc::stopped; the other clients and timers stop. io_ keeps its
//      work guard and threads: those completions still need it;
//   4. the connection threads run out of work (what the cache started on them ends) and are
//      joined; past a bound their io_contexts are stopped, handlers left in them;
//   5. io_'s work guard goes, its threads run out of work and are joined (io_context::stop past
//      a bound);
//   6. no thread runs any context now: the handlers left in any of them (only after a bound was
//      hit) are destroyed, while every service their frames may reach still exists;
//   7. the objects go: the HTTP server (its contexts), the API, the namespaces, the clients; io_
//      itself last.

#include "server/daemon.hpp"

#include "tiercache/redis/cluster_client.hpp"

#include "server/dashboard/history.hpp"
#include "server/mcp/tool_sets.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

namespace tiercache::server {
namespace {

// How long the connection threads, then io_'s threads, may take to run out of work once the
// drain is over (steps 4 and 5) before their contexts are stopped.
constexpr auto kThreadsBound = std::chrono::seconds(5);

ratelimit::Algorithm algorithm_of(const std::string& name) {
  if (name == "sliding_window") return ratelimit::Algorithm::sliding_window;
  if (name == "token_bucket") return ratelimit::Algorithm::token_bucket;
  return ratelimit::Algorithm::sliding_log;
}

// The calendar's upkeep: one bounded cleanup() pass per interval until the timer is cancelled.
// Runs on the timer's strand; shutdown sets `stopping`, then cancels the timer on that strand, so
// a pass in progress ends the loop too.
asio::awaitable<void> calendar_cleanup_loop(calendar::CalendarCache* cal, asio::steady_timer* timer,
                                            const std::atomic<bool>* stopping,
                                            std::chrono::milliseconds every) {
  while (!stopping->load()) {
    timer->expires_after(every);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto r = co_await cal->cleanup();
    if (!r) {
      spdlog::warn("calendar cleanup: {}", r.error().message());
    } else if (r->records_removed + r->days_removed + r->locations_dropped > 0) {
      spdlog::debug("calendar cleanup: {} record(s), {} day(s), {} location(s) removed",
                    r->records_removed, r->days_removed, r->locations_dropped);
    }
  }
}

asio::awaitable<bool> ping(std::shared_ptr<redis::AnyClient> client) {
  resp::Request req;
  req.push("PING");
  auto r = co_await client->exec(std::move(req));
  co_return r && !r->is_error();
}

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) {
  services_.config = &config_;
  services_.registry = &registry_;
}

Daemon::~Daemon() { stop(); }

void Daemon::probe_redis() {
  if (!config_.redis) {
    services_.redis_mode = RedisMode::not_configured;
    spdlog::warn("no Redis configured: serving from the in-process tier (L1) alone");
    return;
  }
  redis::Config rc = *config_.redis;
  rc.client_name = "tiercached";
  const std::string where = config_.redis_settings(rc).describe();
  auto client = redis::make_client(io_.get_executor(), config_.redis_settings(rc));
  client->start();
  auto ok = asio::co_spawn(io_, ping(client), asio::use_future);
  const auto limit = rc.connect_timeout + rc.request_timeout + std::chrono::seconds(1);
  if (ok.wait_for(limit) == std::future_status::ready && ok.get()) {
    services_.redis_mode = RedisMode::connected;
    services_.control = client;
    spdlog::info("Redis at {} reached: L1 + Redis (two tiers)", where);
    return;
  }
  client->stop();
  services_.redis_mode = RedisMode::unreachable;
  spdlog::warn(
      "Redis at {} is unreachable: serving from the in-process tier (L1) alone until restart",
      where);
}

// The rate limiters share the control client (started by probe_redis) behind a breaker of their
// own; /readyz and the dashboard's INFO keep asking the control client itself, unguarded, since
// they must see Redis come back. Their decisions go on /metrics.
void Daemon::start_limiters() {
  std::shared_ptr<redis::AnyClient> client = services_.control;
  if (!client) return;
  if (auto guarded = namespaces_->guard(client, "ratelimits")) client = std::move(guarded);
  for (const auto& rl : config_.rate_limits) {
    auto limiter =
        ratelimit::Limiter(client, ratelimit::Policy{.algorithm = algorithm_of(rl.algorithm),
                                                     .limit = rl.limit,
                                                     .window = rl.window,
                                                     .burst = rl.burst,
                                                     .max_batch = rl.max_batch,
                                                     .max_in_flight = rl.max_in_flight});
    services_.limiters.emplace(rl.name, limiter);
    namespaces_->collector().add_limiter(rl.name, std::move(limiter));
  }
}

// Each proxy route caches in its own namespace, created here unless [namespaces] lists it.
void Daemon::add_route_namespaces() {
  for (const auto& route : config_.proxy.routes) {
    const bool listed = std::any_of(config_.namespaces.begin(), config_.namespaces.end(),
                                    [&](const NamespaceConfig& ns) { return ns.name == route.ns; });
    if (listed) continue;
    config_.namespaces.push_back(
        NamespaceConfig{.name = route.ns,
                        .default_ttl = route.ttl.value_or(config_.defaults.default_ttl),
                        .grace = std::max(route.stale_while_revalidate, route.stale_if_error),
                        .max_ttl = config_.defaults.max_ttl,
                        .l1_bytes = route.l1_bytes,
                        // The body and the status and headers kept with it.
                        .max_value_size = route.max_body_bytes + (std::size_t{64} << 10)});
  }
}

// Probes Redis every 15 s (and on GET /v1/health when the last probe is older), over a client
// of its own: a probe must reach Redis to tell that it is back. Watches the namespaces created
// at start (listed ones and the proxy's); unlisted ones made later count in /v1/stats only.
void Daemon::start_health_monitor() {
  redis::Config rc = *config_.redis;
  rc.client_name = "tiercached-health";
  rc.client_tracking = false;
  health_ = std::make_unique<health::HealthMonitor>(
      redis::make_client(io_.get_executor(), config_.redis_settings(rc)), health::MonitorOptions{});
  for (const auto& ns : namespaces_->all()) health_->watch_cache(*ns->cache);
  namespaces_->watch_breakers(health_.get());  // every guard's, later namespaces' too
  health_metrics_ = health_->export_metrics(registry_);
  health_->start();
  services_.health = health_.get();
}

// The calendar of the MCP calendar tools, on a Redis client of its own with tracking on (as the
// namespaces'), and its periodic cleanup.
void Daemon::start_calendar() {
  const auto& cc = config_.calendar;
  redis::Config rc = *config_.redis;
  rc.client_name = "tiercached:calendar";
  rc.client_tracking = true;
  calendar_redis_ = redis::make_client(io_.get_executor(), config_.redis_settings(rc));
  if (auto guarded = namespaces_->guard(calendar_redis_, "calendar")) calendar_redis_ = guarded;
  try {
    calendar_ = std::make_unique<calendar::CalendarCache>(
        calendar_redis_, calendar::Options{.prefix = cc.prefix, .default_ttl = cc.default_ttl});
  } catch (const std::invalid_argument& e) {
    throw ConfigError("calendar", "", 0, 0, e.what());
  }
  services_.calendar = calendar_.get();
  calendar_strand_.emplace(asio::make_strand(io_));
  calendar_cleanup_ = std::make_unique<asio::steady_timer>(*calendar_strand_);
  asio::co_spawn(*calendar_strand_,
                 calendar_cleanup_loop(calendar_.get(), calendar_cleanup_.get(),
                                       &calendar_stopping_, cc.cleanup_interval),
                 asio::detached);
}

void Daemon::start(bool serve_http) {
  spdlog::set_level(spdlog::level::from_str(config_.log_level));
  work_.emplace(io_.get_executor());
  std::size_t n = config_.threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  threads_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  try {
    probe_redis();
    std::optional<redis::Config> redis;
    if (services_.redis_mode == RedisMode::connected) redis = config_.redis;
    add_route_namespaces();
    try {
      namespaces_ = std::make_unique<Namespaces>(io_.get_executor(), config_, redis, registry_);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("namespaces", "", 0, 0, e.what());
    }
    services_.namespaces = namespaces_.get();
    start_limiters();
    // The calendar first: its breaker then exists when the monitor takes its first report.
    if (services_.redis_mode == RedisMode::connected && config_.calendar.enabled) start_calendar();
    if (services_.redis_mode == RedisMode::connected) start_health_monitor();
    if (!config_.proxy.routes.empty()) {
      try {
        proxy_ = std::make_unique<proxy::Proxy>(io_.get_executor(), services_);
      } catch (const std::invalid_argument& e) {
        throw ConfigError("proxy.routes", "", 0, 0, e.what());
      }
      services_.proxy = proxy_.get();
    }
    mcp_server_ = mcp::make_mcp_server(services_);
    if (!serve_http) {
      spdlog::info("tiercached serving MCP over stdio with {} thread(s), {}", n,
                   services_.l1_only() ? "L1 only" : "L1 + Redis");
      return;
    }
    if (config_.mcp.enabled) {
      mcp_http_ = std::make_unique<mcp::HttpTransport>(
          *mcp_server_, mcp::HttpOptions{.allowed_origins = config_.mcp.allowed_origins,
                                         .max_sessions = config_.mcp.max_sessions,
                                         .session_idle_timeout = config_.mcp.session_idle_timeout});
      services_.mcp = mcp_http_.get();
    }
    // The dashboard's 15 minutes of history, sampled every 2 s from here on.
    services_.dashboard = dashboard::History::start(
        io_.get_executor(), services_,
        dashboard::HistoryOptions{.slow_log = {.threshold = config_.slow_request}});
    api_ = std::make_unique<RestApi>(services_);
    auto log = std::make_shared<AccessLog>(config_.access_log);
    RestApi* api = api_.get();
    // Connections get n threads of their own (decision 0010); io_ keeps Redis, upstreams, timers.
    server_ = std::make_unique<HttpServer>(
        io_.get_executor(), n, config_.limits,
        [api](Request r) { return api->handle(std::move(r)); }, std::move(log));
    server_->listen(config_.listen_host, config_.listen_port);
    server_->start();
  } catch (...) {
    stop();
    throw;
  }
  spdlog::info("tiercached listening on {}:{} with {} thread(s), {}", config_.listen_host,
               server_->port(), n, services_.l1_only() ? "L1 only" : "L1 + Redis");
}

void Daemon::begin_stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_begun_) return;
    stop_begun_ = true;
  }
  services_.draining = true;
  if (server_) {
    spdlog::info("shutting down: draining {} request(s) in flight", server_->in_flight());
    server_->stop([this] { on_drained(); });
  } else {
    on_drained();
  }
}

void Daemon::on_drained() {
  {
    std::lock_guard lock(mu_);
    if (services_stopped_) return;  // stop() did it, the drain having taken too long
    services_stopped_ = true;
  }
  // The upstreams close with the proxy: a refresh still calling one (it keeps its route alive)
  // ends at once rather than after the upstream's timeout.
  services_.proxy = nullptr;
  if (proxy_) proxy_->close();
  proxy_.reset();
  // The monitor watches the caches: it goes before them.
  services_.health = nullptr;
  if (namespaces_) namespaces_->watch_breakers(nullptr);
  health_metrics_.clear();
  health_.reset();
  if (namespaces_) namespaces_->close();
  // The calendar stays (handlers may still hold it) until the threads are joined; its timer and
  // client stop here so the io_context runs out of work.
  calendar_stopping_ = true;
  if (calendar_cleanup_) {
    asio::post(*calendar_strand_, [timer = calendar_cleanup_.get()] { timer->cancel(); });
  }
  if (calendar_redis_) calendar_redis_->stop();
  if (services_.dashboard) services_.dashboard->stop();
  services_.limiters.clear();
  if (services_.control) services_.control->stop();
  // io_ keeps its work guard: the connection threads' leftovers may still await it (stop()).
  std::lock_guard lock(mu_);
  drained_ = true;
  cv_.notify_all();
}

void Daemon::stop() {
  begin_stop();
  bool drained = false;
  {
    std::unique_lock lock(mu_);
    if (joined_) return;
    // Past the drain bound the server closes what is left; give that and Redis a moment more.
    const auto limit = config_.limits.drain_timeout + std::chrono::seconds(5);
    drained = cv_.wait_for(lock, limit, [this] { return drained_; });
  }
  if (!drained) {
    spdlog::warn("shutdown: connections did not close in time; stopping anyway");
    asio::post(io_, [this] { on_drained(); });  // on io_, as from the server; runs once
  }
  // Step 4: the connection threads, while io_ (guarded) still runs what their leftovers await.
  if (server_) server_->join(kThreadsBound);
  // Step 5: io_. A bound, in case a handler is stuck: io_context::stop, handlers left in it.
  work_.reset();
  std::promise<void> joined;
  auto joined_future = joined.get_future();
  std::thread watchdog([this, f = std::move(joined_future)]() mutable {
    if (f.wait_for(kThreadsBound) != std::future_status::ready) {
      spdlog::warn("shutdown: threads still busy {} s after the connection threads; stopping",
                   kThreadsBound.count());
      io_.stop();
    }
  });
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  joined.set_value();
  watchdog.join();
  threads_.clear();
  {
    std::lock_guard lock(mu_);
    joined_ = true;
  }
  // Step 6: no thread runs any context. What a bound left behind (coroutine frames holding
  // caches, Redis clients, upstream connections) is destroyed now, while all of it exists.
  if (server_) server_->destroy_pending_handlers();
  io_.destroy_pending_handlers();
  // Step 7.
  server_.reset();
  api_.reset();
  services_.mcp = nullptr;
  mcp_http_.reset();
  mcp_server_.reset();
  namespaces_.reset();
  services_.calendar = nullptr;
  calendar_.reset();
  calendar_cleanup_.reset();
  calendar_redis_.reset();
  services_.dashboard.reset();
  services_.control.reset();
  spdlog::info("tiercached stopped");
}

void Daemon::wait_for_signal() {
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait(
      [](boost::system::error_code, int sig) { spdlog::info("signal {} received", sig); });
  signals_io.run();
  stop();
}

}  // namespace tiercache::server
