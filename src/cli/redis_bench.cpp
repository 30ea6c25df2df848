// bench --redis: GET/SET through the library's Cache (L1 off, so every read is a Redis round
// trip) from --concurrency coroutines on the session's one thread. Their requests share one
// pipelined link, which is how a service using the library talks to Redis: the figures are the
// library's and Redis's together, without the daemon's HTTP.

#include "tiercache/cache/cache.hpp"

#include "cli/bench.hpp"
#include "cli/progress.hpp"
#include "cli/redis_session.hpp"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <random>
#include <thread>

namespace tiercache::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  cache::Cache* cache;
  std::uint64_t keys;
  std::string value;
  double read_ratio;
  std::uint64_t requests;      // 0: until the deadline
  Clock::time_point deadline;  // time_point::max(): until `requests` are done
  std::atomic<std::uint64_t> issued{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::size_t> finished{0};  // workers that returned
};

asio::awaitable<void> worker(Shared* s, std::size_t index, BenchTally* out) {
  std::mt19937_64 rng(0x7ea5e + index);
  std::uniform_int_distribution<std::uint64_t> key_of(0, s->keys - 1);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  for (;;) {
    if (s->requests > 0) {
      if (s->issued.fetch_add(1, std::memory_order_relaxed) >= s->requests) break;
    } else if (Clock::now() >= s->deadline) {
      break;
    }
    const bool read = coin(rng) < s->read_ratio;
    std::string key = "bench:" + std::to_string(key_of(rng));
    const auto start = Clock::now();
    error_code failed;
    if (read) {
      ++out->gets;
      auto r = co_await s->cache->get(std::move(key));
      if (!r) {
        failed = r.error();
      } else {
        r->hit() ? ++out->hits : ++out->misses;
      }
    } else {
      ++out->sets;
      auto r = co_await s->cache->set(std::move(key), s->value);
      if (!r) failed = r.error();
    }
    out->latency.record(Clock::now() - start);
    if (failed) {
      ++out->errors;
      if (out->first_error.empty()) out->first_error = failed.message();
    }
    s->done.fetch_add(1, std::memory_order_relaxed);
  }
}

// Writes the keyspace once, so that reads hit: set_many, 1000 keys a transaction.
asio::awaitable<Result<void>> prefill(cache::Cache* cache, std::uint64_t keys, std::string value) {
  for (std::uint64_t first = 0; first < keys; first += 1000) {
    std::vector<std::pair<std::string, std::string>> items;
    for (std::uint64_t i = first; i < std::min<std::uint64_t>(keys, first + 1000); ++i) {
      items.emplace_back("bench:" + std::to_string(i), value);
    }
    auto r = co_await cache->set_many(std::move(items));
    if (!r) co_return r.error();
  }
  co_return Result<void>{};
}

}  // namespace

int redis_bench(Context& ctx, const BenchArgs& a) {
  auto& session = ctx.redis();
  if (!session.target().loopback() && !a.allow_remote) {
    return ctx.fail(ExitCode::usage, "bench loads Redis; " + session.target().text +
                                         " is not this machine: add --allow-remote if you mean it");
  }
  auto planned = plan_bench(ctx, a);
  if (const int* code = std::get_if<int>(&planned)) return *code;
  const auto plan = std::get<BenchPlan>(planned);
  if (const int code = ctx.redis_check()) return code;
  cache::Cache* cache = nullptr;
  try {
    cache = &session.cache(a.ns);
  } catch (const std::invalid_argument& e) {
    return ctx.fail(ExitCode::usage, "namespace '" + a.ns + "': " + e.what());
  }
  const std::string value(a.value_size, 'x');
  if (a.read_ratio > 0 && !a.no_prefill) {
    auto r = session.run(prefill(cache, a.keys, value));
    if (!r) return ctx.redis_failed(r.error());
  }

  Shared s{.cache = cache,
           .keys = a.keys,
           .value = value,
           .read_ratio = a.read_ratio,
           .requests = plan.requests,
           .deadline = plan.duration ? Clock::now() + *plan.duration : Clock::time_point::max()};
  std::vector<BenchTally> results(a.concurrency);
  std::exception_ptr crashed;
  const auto start = Clock::now();
  {
    ProgressBar bar(ctx.err, ctx.terminal.stderr_tty && !ctx.json, "bench", plan.requests,
                    plan.duration.value_or(std::chrono::milliseconds{}));
    for (std::size_t i = 0; i < a.concurrency; ++i) {
      asio::co_spawn(session.io(), worker(&s, i, &results[i]),
                     [&s, &crashed](std::exception_ptr e) {
                       if (e && !crashed) crashed = e;  // on the session's one thread
                       s.finished.fetch_add(1, std::memory_order_release);
                     });
    }
    // The workers end by themselves (count or deadline); this thread only draws.
    while (s.finished.load(std::memory_order_acquire) < a.concurrency) {
      bar.update(s.done.load(std::memory_order_relaxed));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    bar.update(s.done.load());
  }
  const auto elapsed = Clock::now() - start;
  if (crashed) std::rethrow_exception(crashed);
  BenchTally total;
  for (const auto& r : results) total.merge(r);
  return report_bench(ctx, a, total, elapsed, "callers in flight on one pipelined link");
}

}  // namespace tiercache::cli
