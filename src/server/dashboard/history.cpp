// History: the sampler and GET /v1/dashboard's body.
//
// Cost. A sample reads in-process counters only (per namespace: CacheStats, three histogram
// snapshots, two counters; per limiter: its Stats), one INFO from Redis (a few KB, on the
// daemon's control client, so at most one per interval whatever the number of pages open) and,
// every calendar_every samples, one ranking read. A page's request never reaches Redis: it reads
// the ring and the counters under the ring's mutex, which the sampler takes only to append.
// The ring holds at most `capacity` samples; a page asks for the samples after the last it has
// (?since=seq), so a refresh carries one sample, and only the first load carries the window.
//
// Rates are deltas of cumulative counters over the measured interval. A counter that went back
// (POST /v1/admin/stats/reset) restarts its delta from zero rather than going negative.

#include "server/dashboard/history.hpp"

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/health/monitor.hpp"
#include "tiercache/health/redis_info.hpp"

#include "server/stats_counters.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace tiercache::server::dashboard {
namespace {

namespace json = boost::json;

std::int64_t unix_ms(std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::uint64_t delta(std::uint64_t now, std::uint64_t before) {
  return now >= before ? now - before : now;
}

// A namespace's REST latency buckets now: get, set and delete merged (one family, one set of
// bounds), and those bounds.
std::vector<std::uint64_t> latency_counts(const Namespace& ns, std::span<const double>* bounds) {
  std::vector<std::uint64_t> counts;
  for (const metrics::Histogram* h :
       {ns.counters.get_seconds, ns.counters.set_seconds, ns.counters.delete_seconds}) {
    if (h == nullptr) continue;
    const auto snap = h->snapshot();
    if (counts.empty()) {
      counts = snap.counts;
      *bounds = h->bounds();
    } else if (snap.counts.size() == counts.size()) {
      for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += snap.counts[i];
    }
  }
  return counts;
}

std::optional<double> millis(std::optional<double> seconds) {
  if (seconds) return *seconds * 1000;
  return std::nullopt;
}

}  // namespace

std::shared_ptr<History> History::start(asio::any_io_executor executor, const Services& services,
                                        HistoryOptions options) {
  auto h = std::make_shared<History>(std::move(executor), services, std::move(options));
  asio::co_spawn(h->strand_, run(h), asio::detached);
  return h;
}

History::History(asio::any_io_executor executor, const Services& services, HistoryOptions options)
    : services_(services),
      options_(std::move(options)),
      redis_(services.control),
      limiters_(services.limiters),
      calendar_(services.calendar),
      slow_log_(options_.slow_log, Clock::real()),
      strand_(asio::make_strand(std::move(executor))),
      timer_(strand_),
      ring_(std::max<std::size_t>(1, options_.capacity)) {}

void History::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
}

asio::awaitable<void> History::run(std::shared_ptr<History> self) {
  self->previous_time_ = std::chrono::steady_clock::now();
  auto next = self->previous_time_;
  while (!self->stopping_.load()) {
    // A fixed rate, without a burst to catch up when a sample ran late (a slow INFO).
    next = std::max(next + self->options_.interval, std::chrono::steady_clock::now());
    self->timer_.expires_at(next);
    auto [ec] = co_await self->timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || self->stopping_.load()) co_return;
    try {
      co_await self->take_sample();
    } catch (const std::exception& e) {
      spdlog::warn("dashboard sampler: {}", e.what());
    }
  }
}

asio::awaitable<std::optional<History::RedisNow>> History::read_redis() {
  if (!redis_) co_return std::nullopt;
  RedisNow now;
  resp::Request info;
  info.push("INFO");
  auto reply = co_await redis_->exec(std::move(info));
  now.unix_ms = unix_ms();
  if (!reply) {
    now.error = reply.error().message();
  } else if (reply->is_error()) {
    now.error = std::string(reply->str());
  } else if (auto parsed = health::parse_redis_info(reply->str()); !parsed) {
    now.error = "INFO: " + parsed.error().message();
  } else {
    now.reachable = true;
    now.version = parsed->redis_version;
    now.used_memory = parsed->used_memory;
    now.used_memory_peak = parsed->used_memory_peak;
    now.maxmemory = parsed->maxmemory;
    now.maxmemory_policy = parsed->maxmemory_policy;
    now.evicted_keys = parsed->evicted_keys;
    now.keys = parsed->keys;
  }
  co_return now;
}

asio::awaitable<void> History::read_calendar() {
  CalendarNow now;
  auto top = co_await calendar_->popular_locations(options_.top_locations);
  now.unix_ms = unix_ms();
  if (top) {
    now.top = std::move(*top);
  } else {
    now.error = top.error().message();
  }
  std::lock_guard lock(mu_);
  calendar_now_ = std::move(now);
}

asio::awaitable<void> History::take_sample() {
  const auto redis_now = co_await read_redis();
  if (calendar_ != nullptr && options_.calendar_every > 0 &&
      (next_seq_ - 1) % options_.calendar_every == 0) {
    co_await read_calendar();
  }
  const auto now = std::chrono::steady_clock::now();
  const double seconds =
      std::max(1e-3, std::chrono::duration<double>(now - previous_time_).count());
  previous_time_ = now;
  const auto per_s = [seconds](std::uint64_t n) { return static_cast<double>(n) / seconds; };

  Sample s;
  s.seq = next_seq_++;
  s.unix_ms = unix_ms();
  s.seconds = seconds;
  std::uint64_t reads = 0, hits = 0, ops = 0, evictions = 0;
  std::vector<std::uint64_t> all_latency;
  std::span<const double> bounds;
  for (const auto& ns : services_.namespaces->all()) {
    const cache::CacheStats st = ns->stats();
    const std::uint64_t writes = ns->counters.sets->value() + ns->counters.deletes->value();
    std::span<const double> ns_bounds;
    auto counts = latency_counts(*ns, &ns_bounds);
    Previous& prev = previous_[ns->config.name];

    NamespaceSample n;
    const auto d_l1 = delta(st.hits_l1, prev.stats.hits_l1);
    const auto d_l2 = delta(st.hits_l2, prev.stats.hits_l2);
    const auto d_stale = delta(st.stale_served, prev.stats.stale_served);
    const auto d_miss = delta(st.misses, prev.stats.misses);
    const auto d_err = delta(st.errors, prev.stats.errors);
    const auto d_reads = d_l1 + d_l2 + d_stale + d_miss + d_err;
    const auto d_writes = delta(writes, prev.writes);
    const auto d_evicted = delta(st.l1.evicted_size + st.l1.evicted_expired,
                                 prev.stats.l1.evicted_size + prev.stats.l1.evicted_expired);
    n.reads_per_s = per_s(d_reads);
    n.writes_per_s = per_s(d_writes);
    n.hits_l1_per_s = per_s(d_l1);
    n.hits_l2_per_s = per_s(d_l2);
    n.stale_per_s = per_s(d_stale);
    n.misses_per_s = per_s(d_miss);
    n.errors_per_s = per_s(d_err);
    if (d_reads > 0) {
      n.hit_rate = static_cast<double>(d_l1 + d_l2 + d_stale) / static_cast<double>(d_reads);
    }
    std::vector<std::uint64_t> d_counts(counts.size());
    for (std::size_t i = 0; i < counts.size(); ++i) {
      d_counts[i] = delta(counts[i], i < prev.latency_counts.size() ? prev.latency_counts[i] : 0);
    }
    n.p50_ms = millis(bucket_quantile(ns_bounds, d_counts, 0.50));
    n.p99_ms = millis(bucket_quantile(ns_bounds, d_counts, 0.99));
    n.l1_bytes = st.l1_bytes;
    n.l1_entries = st.l1_entries;
    n.l1_evictions_per_s = per_s(d_evicted);

    if (!d_counts.empty() && (all_latency.empty() || all_latency.size() == d_counts.size())) {
      if (all_latency.empty()) {
        all_latency = d_counts;
        bounds = ns_bounds;
      } else {
        for (std::size_t i = 0; i < d_counts.size(); ++i) all_latency[i] += d_counts[i];
      }
    }
    reads += d_reads;
    hits += d_l1 + d_l2 + d_stale;
    ops += d_reads + d_writes;
    evictions += d_evicted;
    s.l1_bytes += st.l1_bytes;
    s.l1_entries += st.l1_entries;
    s.namespaces.emplace(ns->config.name, n);
    prev = Previous{.stats = st, .writes = writes, .latency_counts = std::move(counts)};
  }
  s.ops_per_s = per_s(ops);
  if (reads > 0) s.hit_rate = static_cast<double>(hits) / static_cast<double>(reads);
  s.p50_ms = millis(bucket_quantile(bounds, all_latency, 0.50));
  s.p99_ms = millis(bucket_quantile(bounds, all_latency, 0.99));
  s.l1_evictions_per_s = per_s(evictions);

  if (redis_now) {
    RedisSample r;
    r.reachable = redis_now->reachable;
    r.used_memory = redis_now->used_memory;
    r.maxmemory = redis_now->maxmemory;
    if (redis_now->reachable) {
      if (previous_evicted_keys_) {
        r.evictions_per_s = per_s(delta(redis_now->evicted_keys, *previous_evicted_keys_));
      }
      previous_evicted_keys_ = redis_now->evicted_keys;
    }
    s.redis = r;
  }
  s.degraded = services_.l1_only() || (redis_now && !redis_now->reachable);
  for (const auto& [name, limiter] : limiters_) {
    const auto st = limiter.stats();
    auto& prev = previous_limits_[name];
    s.limits.emplace(name, LimitSample{.allowed_per_s = per_s(delta(st.allowed, prev.allowed)),
                                       .denied_per_s = per_s(delta(st.denied, prev.denied))});
    prev = st;
  }

  std::lock_guard lock(mu_);
  ring_.push(std::move(s));
  if (redis_now) redis_now_ = *redis_now;
}

// The health monitor's last verdict (probed every 15 s; never probed for a page), overruled by
// the sampler's own INFO when that failed since: the badge must not say healthy while Redis is
// gone. In L1-only mode, what GET /v1/health says: degraded, and why.
json::object History::status_json() const {
  json::object o;
  json::array reasons;
  std::string status = "unknown";
  json::value checked_at = nullptr;
  json::array breakers;
  if (services_.l1_only()) {
    status = "degraded";
    reasons.push_back(json::object{
        {"severity", "degraded"},
        {"code", "l1_only"},
        {"message", std::string("no Redis (") + std::string(mode_name(services_.redis_mode)) +
                        "): serving from the in-process tier alone"}});
  } else if (services_.health == nullptr) {
    reasons.push_back(json::object{{"severity", "degraded"},
                                   {"code", "no_probe"},
                                   {"message", "the health monitor is not running"}});
  } else if (const auto report = services_.health->last_report(); !report) {
    reasons.push_back(json::object{{"severity", "degraded"},
                                   {"code", "no_probe"},
                                   {"message", "no health probe has completed yet"}});
  } else {
    status = std::string(health::to_string(report->status()));
    checked_at = unix_ms(report->timestamp);
    for (const auto& r : report->assessment.reasons) {
      reasons.push_back(json::object{
          {"severity", health::to_string(r.severity)}, {"code", r.code}, {"message", r.message}});
    }
    for (const auto& b : report->observed.breakers) {
      breakers.push_back(
          json::object{{"endpoint", b.endpoint}, {"state", resilience::to_string(b.state)}});
    }
  }
  if (redis_now_ && !redis_now_->reachable) {
    status = "unhealthy";
    reasons.push_back(json::object{{"severity", "unhealthy"},
                                   {"code", "redis_unreachable"},
                                   {"message", "Redis did not answer INFO: " + redis_now_->error}});
  }
  return json::object{{"status", status},
                      {"reasons", std::move(reasons)},
                      {"checked_at", checked_at},
                      {"breakers", std::move(breakers)}};
}

json::object History::redis_json() const {
  json::object o;
  o["configured"] = services_.redis_mode != RedisMode::not_configured;
  o["mode"] = mode_name(services_.redis_mode);
  if (!redis_now_) {
    o["reachable"] = nullptr;
    return o;
  }
  const auto& r = *redis_now_;
  o["reachable"] = r.reachable;
  o["at"] = r.unix_ms;
  if (!r.reachable) {
    o["error"] = r.error;
    return o;
  }
  o["version"] = r.version;
  o["used_memory"] = r.used_memory;
  o["used_memory_peak"] = r.used_memory_peak;
  o["maxmemory"] = r.maxmemory;
  o["maxmemory_policy"] = r.maxmemory_policy;
  o["evicted_keys"] = r.evicted_keys;
  o["keys"] = r.keys;
  return o;
}

json::value History::calendar_json() const {
  json::object o;
  if (calendar_ == nullptr) {
    o["enabled"] = false;
    o["why"] = services_.l1_only() ? "the calendar cache needs Redis"
                                   : "the calendar cache is off ([calendar] enabled = false)";
    return o;
  }
  o["enabled"] = true;
  o["at"] = calendar_now_.unix_ms == 0 ? json::value(nullptr) : json::value(calendar_now_.unix_ms);
  if (!calendar_now_.error.empty()) o["error"] = calendar_now_.error;
  json::array top;
  for (const auto& l : calendar_now_.top) {
    top.push_back(json::object{{"location", l.location}, {"gets", l.gets}});
  }
  o["top_locations"] = std::move(top);
  return o;
}

json::object History::report(std::uint64_t since) const {
  json::object o;
  o["now"] = unix_ms();
  o["interval_ms"] = options_.interval.count();
  o["capacity"] = std::max<std::size_t>(1, options_.capacity);
  o["mode"] = services_.l1_only() ? "l1_only" : "two_tier";
  o["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - services_.started)
                      .count();
  o["admin_enabled"] = !services_.config->admin_token.empty();
  // The same figures and formulas as GET /v1/stats, so the page and the API agree.
  o["stats"] = stats_counters(*services_.namespaces);

  json::array limits;
  for (const auto& [name, limiter] : limiters_) {
    const auto st = limiter.stats();
    const auto& p = limiter.policy();
    limits.push_back(json::object{{"name", name},
                                  {"algorithm", ratelimit::to_string(p.algorithm)},
                                  {"limit", p.limit},
                                  {"window_ms", p.window.count()},
                                  {"allowed", st.allowed},
                                  {"denied", st.denied},
                                  {"redis_failures", st.redis_failures},
                                  {"fail_open", st.fail_open},
                                  {"fail_closed", st.fail_closed},
                                  {"local", st.local}});
  }
  o["rate_limits"] = std::move(limits);
  o["rate_limits_configured"] = services_.config->rate_limits.size();

  json::array slow;
  for (const auto& e : slow_log_.snapshot()) {
    slow.push_back(
        json::object{{"id", e.id},
                     {"t", unix_ms(e.time)},
                     {"operation", e.operation},
                     {"key", e.key},
                     {"key_truncated", e.key_truncated},
                     {"duration_ms", std::chrono::duration<double, std::milli>(e.duration).count()},
                     {"detail", e.detail}});
  }
  o["slow_log"] = json::object{
      {"threshold_ms", std::chrono::duration<double, std::milli>(slow_log_.threshold()).count()},
      {"recorded", slow_log_.recorded()},
      {"entries", std::move(slow)}};

  std::lock_guard lock(mu_);
  o["health"] = status_json();
  o["redis"] = redis_json();
  o["calendar"] = calendar_json();
  o["samples"] = ring_.since(since);
  o["last_seq"] = ring_.last_seq();
  return o;
}

}  // namespace tiercache::server::dashboard
