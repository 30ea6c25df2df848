// ratelimit_bench: Limiter::allow decisions per second at 64 concurrent callers over 100 keys,
// for each algorithm, and in the same run raw EVALSHA round trips of a trivial script (same
// client, same callers, same key spread) as the baseline: ratio = decisions/s / EVALSHA/s
// (target >= 0.8, issue #6). Two limits: seed 004's 120 per minute (after the first minute's
// quota nearly every decision is a refusal) and 1,000,000 per minute (every decision admits and
// writes). Prints p50/p99, our CPU time per decision (getrusage), and Redis's: its own time per
// decision (INFO commandstats: the EVALSHAs' wall time inside the command over the decisions,
// inflated when the box is loaded) and its whole process's CPU time per decision (INFO cpu:
// reading, parsing, the script, replying), the steadier figure on a shared machine; `batch` is
// the mean number of decisions per EVALSHA (the Limiter coalesces those that wait). srv-bound =
// the baseline's Redis CPU per call / ours per decision: the ratio Redis's one thread allows when
// it is what limits both (see bench/README.md).
// Run: build/release/bench/ratelimit_bench [decisions-per-case] [options]   (see bench/README.md)
//   --redis=HOST:PORT | --redis=unix:PATH   use that server (flushed by nobody: give it an empty
//                                           one) instead of starting a private redis-server
//   --algorithm=NAME   only sliding_log, sliding_window or token_bucket     (default: all three)
//   --limit=N          this limit per minute only                    (default: 120, then 1000000)
//   --side=ours|baseline|both   measure only the decisions or only the trivial EVALSHA (the other
//                      side's columns print 0): for a profiler, whose cost is then one side's
//   --max-batch=N      Policy::max_batch of the Limiters (default: the Policy's default)
//   --max-in-flight=N  Policy::max_in_flight of the Limiters (default: the Policy's default)

#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/redis/client.hpp"
#include "tiercache/redis/script.hpp"

#include "support/measure.hpp"
#include "support/private_redis.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace redis = tiercache::redis;
namespace ratelimit = tiercache::ratelimit;
using Clock = std::chrono::steady_clock;
using tiercache::bench::cpu_seconds;
using tiercache::bench::percentile;
using namespace std::chrono_literals;

constexpr std::size_t kCallers = 64;
constexpr std::size_t kKeys = 100;

struct Figures {
  double ops = 0, p50_ms = 0, p99_ms = 0, cpu_us = 0, admitted = 0, server_us = 0,
         server_cpu_us = 0, batch = 0;
  std::size_t errors = 0;
};

// One operation of a case: returns 1 admitted, 0 refused, -1 failed.
using Operation = std::function<asio::awaitable<int>(const std::string& key)>;

struct Run {
  std::atomic<std::size_t> remaining{kCallers};
  std::atomic<std::size_t> errors{0}, admitted{0};
  std::promise<void> done;
};

asio::awaitable<void> caller(const Operation& op, std::size_t id, std::size_t n,
                             const std::vector<std::string>& keys, std::vector<double>& latencies,
                             Run& run) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    const int outcome = co_await op(keys[(id * 7 + i) % keys.size()]);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (outcome < 0) ++run.errors;
    if (outcome > 0) ++run.admitted;
  }
  if (--run.remaining == 0) run.done.set_value();
}

// Redis's own time per EVALSHA (INFO commandstats) and its process's CPU time (INFO cpu), since
// reset() was called.
class ServerCost {
 public:
  explicit ServerCost(const redis::Config& cfg)
      : context_(cfg.unix_socket.empty() ? redisConnect(cfg.host.c_str(), cfg.port)
                                         : redisConnectUnix(cfg.unix_socket.c_str())) {}
  ~ServerCost() {
    if (context_ != nullptr) redisFree(context_);
  }
  // Empty when connected, else why not.
  std::string error() const {
    if (context_ == nullptr) return "out of memory";
    return context_->err != 0 ? context_->errstr : "";
  }
  void reset() {
    freeReplyObject(redisCommand(context_, "CONFIG RESETSTAT"));
    cpu0_ = cpu_seconds();
  }
  // Microseconds spent inside EVALSHA since reset(), all calls together.
  double evalsha_us() { return field("commandstats", "cmdstat_evalsha:", "usec="); }
  // CPU seconds of the redis-server process since reset().
  double cpu_seconds_since_reset() { return cpu_seconds() - cpu0_; }

 private:
  double cpu_seconds() {
    return field("cpu", "", "used_cpu_user:") + field("cpu", "", "used_cpu_sys:");
  }
  // The number after `name` (after `line`, when given) in INFO `section`; 0 when absent.
  double field(const char* section, const std::string& line, const std::string& name) {
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "INFO %s", section));
    double value = 0;
    if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
      const std::string text(reply->str, reply->len);
      const auto at = text.find(line);
      const auto found = at == std::string::npos ? at : text.find(name, at);
      if (found != std::string::npos) value = std::atof(text.c_str() + found + name.size());
    }
    if (reply != nullptr) freeReplyObject(reply);
    return value;
  }

  double cpu0_ = 0;
  redisContext* context_;
};

ServerCost* server_cost = nullptr;

Figures measure(asio::io_context& io, const Operation& op, std::size_t total) {
  if (server_cost != nullptr) server_cost->reset();
  const std::size_t per = total / kCallers;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kKeys; ++i) keys.push_back("bench:" + std::to_string(i));
  std::vector<std::vector<double>> latencies(kCallers);
  for (auto& l : latencies) l.reserve(per);
  Run run;
  auto finished = run.done.get_future();
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < kCallers; ++i) {
    asio::co_spawn(io, caller(op, i, per, keys, latencies[i], run), asio::detached);
  }
  finished.wait();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Figures f;
  const auto n = static_cast<double>(all.size());
  f.ops = n / wall;
  f.p50_ms = percentile(all, 0.50);
  f.p99_ms = percentile(all, 0.99);
  f.cpu_us = cpu * 1e6 / n;
  f.errors = run.errors;
  f.admitted = static_cast<double>(run.admitted.load()) / n;
  if (server_cost != nullptr) {
    f.server_us = server_cost->evalsha_us() / n;
    f.server_cpu_us = server_cost->cpu_seconds_since_reset() * 1e6 / n;
  }
  return f;
}

void print_machine() {
  std::string model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::printf("machine: %u cpus, %s\n", std::thread::hardware_concurrency(), model.c_str());
  FILE* v = ::popen("redis-server --version", "r");
  char buf[256] = {};
  if (v != nullptr && std::fgets(buf, sizeof buf, v) != nullptr) std::printf("server:  %s", buf);
  if (v != nullptr) ::pclose(v);
#if !defined(NDEBUG) || !defined(__OPTIMIZE__)
  std::printf(
      "WARNING: not a Release build (asserts on or no optimisation): figures are not "
      "representative\n");
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::printf("WARNING: built with a sanitizer\n");
#endif
}

// Raw EVALSHA of a trivial script, with the same key and argument count as a decision.
asio::awaitable<int> raw_evalsha(redis::Client& client, const redis::Script& script,
                                 const std::string& key) {
  // Vectors built first: GCC 12 rejects a braced list as a coroutine call's argument.
  std::vector<std::string> keys(1, key);
  std::vector<std::string> args{"120", "60000000", "1", "0"};
  auto reply = co_await script.exec(client, std::move(keys), std::move(args));
  co_return reply && !reply->is_error() ? 1 : -1;
}

asio::awaitable<int> decide(ratelimit::Limiter& limiter, const std::string& key) {
  auto d = co_await limiter.allow(key);
  if (!d || d->degraded()) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) {
      std::fprintf(
          stderr, "first failure: %s\n",
          d ? std::string(ratelimit::to_string(d->source)).c_str() : d.error().message().c_str());
    }
    co_return -1;
  }
  co_return d->allowed ? 1 : 0;
}

struct Options {
  std::size_t total = 200000;
  std::string redis;  // empty: a private server
  std::optional<ratelimit::Algorithm> algorithm;
  std::optional<std::uint32_t> limit;
  bool ours = true, baseline = true;
  std::optional<std::uint32_t> max_batch;
  std::optional<std::uint32_t> max_in_flight;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "ratelimit_bench: %s\nusage: ratelimit_bench [decisions-per-case] "
               "[--redis=HOST:PORT|--redis=unix:PATH] [--algorithm=NAME] [--limit=N] "
               "[--side=ours|baseline|both] [--max-batch=N] [--max-in-flight=N]\n",
               why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string v;  // the text after `name=`
    const auto value = [&](std::string_view name) {
      if (!arg.starts_with(name)) return false;
      v = arg.substr(name.size());
      return true;
    };
    if (value("--redis=")) {
      o.redis = v;
    } else if (value("--algorithm=")) {
      for (auto a : {ratelimit::Algorithm::sliding_log, ratelimit::Algorithm::sliding_window,
                     ratelimit::Algorithm::token_bucket}) {
        if (ratelimit::to_string(a) == v) o.algorithm = a;
      }
      if (!o.algorithm) usage("unknown --algorithm");
    } else if (value("--limit=")) {
      const unsigned long n = std::strtoul(v.c_str(), nullptr, 10);
      if (n == 0 || n > 0xffffffffUL) usage("--limit wants a number from 1 to 2^32-1");
      o.limit = static_cast<std::uint32_t>(n);
    } else if (value("--side=")) {
      if (v != "ours" && v != "baseline" && v != "both") usage("unknown --side");
      o.ours = v != "baseline";
      o.baseline = v != "ours";
    } else if (value("--max-batch=")) {
      const unsigned long n = std::strtoul(v.c_str(), nullptr, 10);
      if (n == 0 || n > 1000) usage("--max-batch wants a number from 1 to 1000");
      o.max_batch = static_cast<std::uint32_t>(n);
    } else if (value("--max-in-flight=")) {
      const unsigned long n = std::strtoul(v.c_str(), nullptr, 10);
      if (n == 0 || n > 16) usage("--max-in-flight wants a number from 1 to 16");
      o.max_in_flight = static_cast<std::uint32_t>(n);
    } else if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string_view::npos) {
      o.total = std::strtoull(argv[i], nullptr, 10);
    } else {
      usage(("unknown argument " + std::string(arg)).c_str());
    }
  }
  if (o.total < kCallers) usage("decisions-per-case must be at least the 64 callers");
  return o;
}

// A Config for --redis=HOST:PORT or --redis=unix:PATH.
redis::Config external_config(const std::string& where) {
  redis::Config cfg;
  if (where.starts_with("unix:")) {
    cfg.unix_socket = where.substr(5);
    return cfg;
  }
  const auto colon = where.rfind(':');
  const unsigned long port =
      colon == std::string::npos ? 0 : std::strtoul(where.c_str() + colon + 1, nullptr, 10);
  if (colon == 0 || port == 0 || port > 65535) usage("--redis wants HOST:PORT or unix:PATH");
  cfg.host = where.substr(0, colon);
  cfg.port = static_cast<std::uint16_t>(port);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const std::size_t total = options.total;
  print_machine();
  spdlog::set_level(spdlog::level::warn);
  std::optional<tiercache::bench::PrivateRedis> server;
  redis::Config cfg;
  if (options.redis.empty()) {
    server.emplace();
    cfg = server->config();
  } else {
    cfg = external_config(options.redis);
  }
  std::printf(
      "client:  1 pipelined link to %s, %zu callers over %zu keys, %zu decisions per case\n",
      options.redis.empty() ? "a private redis-server" : cfg.describe().c_str(), kCallers, kKeys,
      total);
  ServerCost cost(cfg);
  if (const std::string why = cost.error(); !why.empty()) {
    std::fprintf(stderr, "ratelimit_bench: cannot reach %s: %s\n", cfg.describe().c_str(),
                 why.c_str());
    return 1;
  }
  server_cost = &cost;
  asio::io_context io(1);
  auto guard = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  cfg.request_timeout = 30s;
  cfg.link_timeout = 60s;
  auto client = std::make_shared<redis::Client>(io.get_executor(), cfg);
  client->start();

  const redis::Script trivial("return 1");
  const Operation baseline = [&](const std::string& key) {
    return raw_evalsha(*client, trivial, key);
  };
  // Warm up: connect, load the script (only what is measured, for a profiler's sake).
  if (options.baseline) (void)measure(io, baseline, total / 10);

  std::printf(
      "\n%-15s %7s | %11s %7s %7s %6s %6s %7s %6s %5s | %11s %7s %7s %6s %6s %7s | %6s %9s\n",
      "algorithm", "limit", "decisions/s", "p50 ms", "p99 ms", "cpu us", "srv us", "srv cpu",
      "admit", "batch", "EVALSHA/s", "p50 ms", "p99 ms", "cpu us", "srv us", "srv cpu", "ratio",
      "srv-bound");
  std::vector<std::uint32_t> limits{120, 1'000'000};
  if (options.limit) limits.assign(1, *options.limit);
  for (std::uint32_t limit : limits) {
    for (auto algorithm : {ratelimit::Algorithm::sliding_log, ratelimit::Algorithm::sliding_window,
                           ratelimit::Algorithm::token_bucket}) {
      if (options.algorithm && *options.algorithm != algorithm) continue;
      ratelimit::Policy policy{.algorithm = algorithm,
                               .limit = limit,
                               .window = 60s,
                               .key_prefix = "rl:" + std::to_string(limit) + ":" +
                                             std::string(ratelimit::to_string(algorithm)) + ":"};
      if (options.max_batch) policy.max_batch = *options.max_batch;
      if (options.max_in_flight) policy.max_in_flight = *options.max_in_flight;
      ratelimit::Limiter limiter(client, std::move(policy));
      const Operation ours = [&](const std::string& key) { return decide(limiter, key); };
      Figures f, base;
      if (options.ours) {
        (void)measure(io, ours, total / 20);  // warm up: load the script
        const ratelimit::Limiter::Stats s0 = limiter.stats();
        f = measure(io, ours, total);
        const ratelimit::Limiter::Stats s1 = limiter.stats();
        if (s1.batches > s0.batches) {
          f.batch = static_cast<double>(s1.batched_decisions - s0.batched_decisions) /
                    static_cast<double>(s1.batches - s0.batches);
        }
      }
      if (options.baseline) base = measure(io, baseline, total);
      std::printf(
          "%-15s %7u | %11.0f %7.3f %7.3f %6.2f %6.2f %7.2f %5.1f%% %5.1f | %11.0f %7.3f %7.3f "
          "%6.2f %6.2f %7.2f | %6.2f %9.2f%s\n",
          std::string(ratelimit::to_string(algorithm)).c_str(), limit, f.ops, f.p50_ms, f.p99_ms,
          f.cpu_us, f.server_us, f.server_cpu_us, 100 * f.admitted, f.batch, base.ops, base.p50_ms,
          base.p99_ms, base.cpu_us, base.server_us, base.server_cpu_us,
          base.ops > 0 ? f.ops / base.ops : 0,
          f.server_cpu_us > 0 ? base.server_cpu_us / f.server_cpu_us : 0,
          f.errors + base.errors > 0 ? "  (errors!)" : "");
    }
  }
  client->stop();
  guard.reset();
  io.stop();
  io_thread.join();
}
