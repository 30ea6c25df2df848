// cache_bench: the two-tier cache::Cache against raw redis::Client GETs in the same run, on one
// Zipf(1.0) trace over 100k keys of 1 KB JSON values, 64 concurrent callers (coroutines on one
// io_context thread by default), against a private redis-server it starts itself. Phases, each a
// bounded number of operations: (a) raw GET of the same values with the same TTL, the baseline
// (and again without TTL, and with CLIENT TRACKING on); (b) Cache::get with L1 off, every key
// pre-warmed (target: >= 0.8x of (a); also without compression), (a) and (b) taking turns over
// tenths of the trace; (c) get_or_load with a 5 ms loader and TTL 60 s from a cold cache, with L1
// off, at its default size and sized for ~10% of the data. Prints ops/s, ratio to (a), p50/p99,
// our CPU time per op (getrusage) and redis-server's (/proc), where answers came from
// (ReadResult::source) and loader calls.
// Run: build/release/bench/cache_bench [--ops N] [--json] ...   (--help; see bench/README.md)

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/l1.hpp"
#include "tiercache/redis/client.hpp"

#include "support/measure.hpp"
#include "support/private_redis.hpp"
#include "support/zipf.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <variant>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace bench = tiercache::bench;
namespace cache = tiercache::cache;
namespace redis = tiercache::redis;
namespace resp = tiercache::resp;
using tiercache::Result;
using Clock = std::chrono::steady_clock;
using tiercache::bench::cpu_seconds;
using tiercache::bench::percentile;
using namespace std::chrono_literals;

// ---- settings

// The phases, by their --only names.
constexpr std::string_view kPhases[] = {"raw",  "raw_no_ttl", "tracking",
                                        "warm", "warm_plain", "cold"};

struct Settings {
  std::size_t ops = 200'000;  // per phase
  std::size_t keys = 100'000;
  std::size_t callers = 64;
  std::size_t threads = 1;  // io_context threads
  double zipf = 1.0;
  std::uint64_t seed = 42;
  std::chrono::milliseconds loader_delay = 5ms;
  std::chrono::milliseconds ttl = 60s;
  std::chrono::seconds phase_limit = 60s;  // a phase stops early past this
  std::size_t rounds = 10;  // the warm phases take turns over this many parts of the trace
  bool json = false;
  // Only this phase (and the writes it needs), for a profiler: one of kPhases; empty for all.
  std::string only;
  // The private redis-server, whose CPU time each phase also reads (not an option).
  pid_t server_pid = -1;
};

void usage() {
  std::fprintf(stderr,
               "usage: cache_bench [--ops N] [--keys N] [--callers N] [--threads N] [--zipf S]\n"
               "                   [--seed N] [--loader-ms N] [--ttl-s N] [--phase-limit-s N] "
               "[--rounds N] [--json]\n"
               "                   [--only raw|raw_no_ttl|tracking|warm|warm_plain|cold]\n"
               "defaults: --ops 200000 (per phase) --keys 100000 --callers 64 --threads 1 "
               "--zipf 1.0\n"
               "          --seed 42 --loader-ms 5 --ttl-s 60 --phase-limit-s 60 --rounds 10\n");
}

std::optional<Settings> parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      s.json = true;
      continue;
    }
    if (arg == "--help" || arg == "-h" || i + 1 >= argc) return std::nullopt;
    const char* value = argv[++i];
    const auto number = std::strtoull(value, nullptr, 10);
    if (arg == "--ops") {
      s.ops = number;
    } else if (arg == "--keys") {
      s.keys = number;
    } else if (arg == "--callers") {
      s.callers = number;
    } else if (arg == "--threads") {
      s.threads = number;
    } else if (arg == "--zipf") {
      s.zipf = std::strtod(value, nullptr);
    } else if (arg == "--seed") {
      s.seed = number;
    } else if (arg == "--loader-ms") {
      s.loader_delay = std::chrono::milliseconds(number);
    } else if (arg == "--ttl-s") {
      s.ttl = std::chrono::seconds(number);
    } else if (arg == "--phase-limit-s") {
      s.phase_limit = std::chrono::seconds(number);
    } else if (arg == "--rounds") {
      s.rounds = number;
    } else if (arg == "--only") {
      s.only = value;
    } else {
      return std::nullopt;
    }
  }
  if (s.ops == 0 || s.keys == 0 || s.callers == 0 || s.threads == 0 || s.rounds == 0 ||
      s.zipf < 0 || s.ttl.count() <= 0) {
    return std::nullopt;
  }
  if (!s.only.empty() &&
      std::find(std::begin(kPhases), std::end(kPhases), s.only) == std::end(kPhases)) {
    return std::nullopt;
  }
  return s;
}

// ---- the data: keys "offer:<n>", values a flight offer as JSON, exactly 1024 bytes, a pure
// function of n (the same bytes in every phase and every run).

constexpr std::size_t kValueSize = 1024;

std::string offer_key(std::uint32_t n) { return "offer:" + std::to_string(n); }

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string offer_json(std::uint32_t n) {
  static constexpr const char* airports[] = {"LHR", "JFK", "CDG", "FRA", "AMS", "MAD", "FCO",
                                             "IST", "DXB", "SIN", "HND", "LAX", "ORD", "ATL",
                                             "YYZ", "GRU", "SYD", "ZRH", "VIE", "CPH"};
  static constexpr const char* carriers[] = {"BA", "AF", "LH", "KL", "IB", "AZ", "TK", "EK"};
  static constexpr const char* cabins[] = {"economy", "premium_economy", "business", "first"};
  static constexpr const char* words[] = {
      "fare",      "includes", "one",   "cabin", "bag",      "changes",   "permitted", "before",
      "departure", "for",      "a",     "fee",   "seat",     "selection", "at",        "check-in",
      "refund",    "of",       "taxes", "only",  "meal",     "served",    "on",        "board",
      "lounge",    "access",   "not",   "with",  "priority", "boarding",  "and",       "miles"};
  std::uint64_t state = n;
  auto pick = [&state](std::size_t count) { return splitmix64(state) % count; };
  // One draw per line, in this order (argument evaluation order is unspecified).
  const char* from = airports[pick(std::size(airports))];
  const char* to = airports[pick(std::size(airports))];
  const char* carrier = carriers[pick(std::size(carriers))];
  const auto month = static_cast<unsigned>(1 + pick(12));
  const auto day = static_cast<unsigned>(1 + pick(28));
  const auto hour = static_cast<unsigned>(pick(24));
  const auto minute = static_cast<unsigned>(5 * pick(12));
  const auto flight = static_cast<unsigned>(pick(10000));
  const char* cabin = cabins[pick(std::size(cabins))];
  const auto fare_class = static_cast<char>('A' + pick(26));
  const auto euros = static_cast<unsigned>(50 + pick(3000));
  const auto cents = static_cast<unsigned>(pick(100));
  const auto tax_euros = static_cast<unsigned>(10 + pick(300));
  const auto tax_cents = static_cast<unsigned>(pick(100));
  const auto seats = static_cast<unsigned>(pick(10));
  const auto aircraft = static_cast<unsigned>(300 + pick(100));
  const auto minutes = static_cast<unsigned>(60 + pick(900));
  const auto bags = static_cast<unsigned>(pick(3));
  const bool refundable = pick(2) != 0;
  char head[640];
  const int len = std::snprintf(
      head, sizeof head,
      R"({"id":"offer-%010u","origin":"%s","destination":"%s",)"
      R"("departure":"2025-%02u-%02uT%02u:%02u:00Z",)"
      R"("carrier":"%s","flight":"%s%04u","cabin":"%s","fare_class":"%c",)"
      R"("price":{"amount":%u.%02u,"currency":"EUR","taxes":%u.%02u},"seats_left":%u,)"
      R"("segments":[{"from":"%s","to":"%s","aircraft":"A%03u","duration_min":%u}],)"
      R"("baggage":{"cabin":1,"checked":%u},"refundable":%s,"notes":")",
      n, from, to, month, day, hour, minute, carrier, carrier, flight, cabin, fare_class, euros,
      cents, tax_euros, tax_cents, seats, from, to, aircraft, minutes, bags,
      refundable ? "true" : "false");
  std::string out;
  out.reserve(kValueSize);  // allocated as a decoded value is: L1 charges by capacity
  out.assign(head, static_cast<std::size_t>(len));
  const std::size_t room = kValueSize - 2;  // the closing "}
  for (;;) {
    const char* w = words[pick(std::size(words))];
    if (out.size() + std::char_traits<char>::length(w) + 1 > room) break;
    out += w;
    out += ' ';
  }
  out.resize(room, '.');
  out += "\"}";
  return out;
}

// ---- running a phase

// What one operation found: where the answer came from (none = a miss), or a failure.
struct Outcome {
  cache::Source source = cache::Source::none;
  bool failed = false;
};
Outcome outcome(const Result<resp::Reply>& reply) {
  if (!reply || reply->is_error()) return Outcome{.failed = true};
  return Outcome{.source = reply->is_null() ? cache::Source::none : cache::Source::l2};
}
Outcome outcome(const Result<cache::ReadResult>& r) {
  if (!r) return Outcome{.failed = true};
  return Outcome{.source = r->source};
}
Outcome outcome(const Outcome& o) { return o; }

// An operation of the trace on one key. The gets return what the library returns, and each
// caller awaits that itself, as a user's coroutine would: a coroutine of the benchmark around
// each get would be one more frame per operation, and more than the two per thread that Asio's
// allocator recycles (a cost of the benchmark, not of the library; it fell on the cache, which
// has one frame more than a raw GET).
using RawGet = std::function<asio::awaitable<Result<resp::Reply>>(std::uint32_t key)>;
using CacheGet = std::function<asio::awaitable<Result<cache::ReadResult>>(std::uint32_t key)>;
using Other = std::function<asio::awaitable<Outcome>(std::uint32_t key)>;  // writes, loads
using Operation = std::variant<RawGet, CacheGet, Other>;

struct Tally {
  std::array<std::uint64_t, 5> sources{};  // by cache::Source
  std::uint64_t failures = 0;
  std::vector<double> latencies_ms;
  std::vector<double> load_latencies_ms;  // of the answers that came from the loader
};

struct Run {
  std::atomic<std::size_t> remaining;
  std::promise<void> done;
  Clock::time_point deadline;
  std::atomic<bool> cut_short{false};
};

// One caller: operations first, first + stride, ... of the trace.
template <class Op>
asio::awaitable<void> caller(const Op& op, const std::vector<std::uint32_t>& trace,
                             std::size_t first, std::size_t stride, Tally& tally, Run& run) {
  for (std::size_t i = first; i < trace.size(); i += stride) {
    const auto t0 = Clock::now();
    if (t0 > run.deadline) {
      run.cut_short = true;
      break;
    }
    const Outcome o = outcome(co_await op(trace[i]));
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    tally.latencies_ms.push_back(ms);
    if (!o.failed && o.source == cache::Source::loader) tally.load_latencies_ms.push_back(ms);
    if (o.failed) {
      ++tally.failures;
    } else {
      ++tally.sources[static_cast<std::size_t>(o.source)];
    }
  }
  if (--run.remaining == 0) run.done.set_value();
}

struct Figures {
  std::string name;
  std::string l1;  // "off" or the budget
  std::size_t ops = 0;
  double seconds = 0, ops_per_s = 0, ratio = 0, p50_ms = 0, p99_ms = 0, cpu_us_per_op = 0;
  double server_us_per_op = 0;              // redis-server's CPU time per operation
  double load_p50_ms = 0, load_p99_ms = 0;  // answers from the loader only
  std::array<std::uint64_t, 5> sources{};
  std::uint64_t failures = 0;
  bool cut_short = false;
  bool target = false;  // the row the 0.8x target is about
  // Cache phases only.
  std::optional<cache::CacheStats> stats;
  std::uint64_t loader_runs = 0;  // counted by our loader itself
  std::size_t l1_entries = 0;
  double l1_hit_ratio = 0;
};

// What one run of an operation over (part of) the trace saw; runs of one phase add up.
struct Sample {
  std::vector<double> latencies_ms;
  std::vector<double> load_latencies_ms;
  std::array<std::uint64_t, 5> sources{};
  std::uint64_t failures = 0;
  double wall = 0, cpu = 0, server_cpu = 0;
  bool cut_short = false;

  void add(Sample&& other) {
    latencies_ms.insert(latencies_ms.end(), other.latencies_ms.begin(), other.latencies_ms.end());
    load_latencies_ms.insert(load_latencies_ms.end(), other.load_latencies_ms.begin(),
                             other.load_latencies_ms.end());
    for (std::size_t k = 0; k < sources.size(); ++k) sources[k] += other.sources[k];
    failures += other.failures;
    wall += other.wall;
    cpu += other.cpu;
    server_cpu += other.server_cpu;
    cut_short = cut_short || other.cut_short;
  }

  Figures figures() {
    Figures f;
    f.ops = latencies_ms.size();
    f.seconds = wall;
    f.ops_per_s = wall > 0 ? static_cast<double>(f.ops) / wall : 0;
    f.p50_ms = percentile(latencies_ms, 0.50);
    f.p99_ms = percentile(latencies_ms, 0.99);
    f.load_p50_ms = percentile(load_latencies_ms, 0.50);
    f.load_p99_ms = percentile(load_latencies_ms, 0.99);
    f.cpu_us_per_op = f.ops == 0 ? 0 : cpu * 1e6 / static_cast<double>(f.ops);
    f.server_us_per_op = f.ops == 0 ? 0 : server_cpu * 1e6 / static_cast<double>(f.ops);
    f.sources = sources;
    f.failures = failures;
    f.cut_short = cut_short;
    return f;
  }
};

// Runs op over trace at s.callers in flight; returns once every caller is done.
Sample measure(asio::io_context& io, const Operation& op, const std::vector<std::uint32_t>& trace,
               const Settings& s) {
  const std::size_t callers = std::min(s.callers, trace.size());
  std::vector<Tally> tallies(callers);
  for (auto& t : tallies) t.latencies_ms.reserve(trace.size() / callers + 1);
  Run run{.remaining = callers, .done = {}, .deadline = Clock::now() + s.phase_limit};
  auto finished = run.done.get_future();
  const double cpu0 = cpu_seconds();
  const double server0 = bench::process_cpu_seconds(s.server_pid);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < callers; ++i) {
    std::visit(
        [&](const auto& f) {
          asio::co_spawn(io, caller(f, trace, i, callers, tallies[i], run), asio::detached);
        },
        op);
  }
  if (callers > 0) finished.wait();
  Sample out;
  out.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  out.cpu = cpu_seconds() - cpu0;
  out.server_cpu = bench::process_cpu_seconds(s.server_pid) - server0;
  out.latencies_ms.reserve(trace.size());
  for (auto& t : tallies) {
    out.latencies_ms.insert(out.latencies_ms.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    out.load_latencies_ms.insert(out.load_latencies_ms.end(), t.load_latencies_ms.begin(),
                                 t.load_latencies_ms.end());
    for (std::size_t k = 0; k < out.sources.size(); ++k) out.sources[k] += t.sources[k];
    out.failures += t.failures;
  }
  out.cut_short = run.cut_short;
  return out;
}

// Runs aw on io and waits for its result.
template <class T>
T finish(asio::io_context& io, asio::awaitable<T> aw) {
  std::promise<T> promise;
  auto future = promise.get_future();
  asio::co_spawn(io, std::move(aw), [&promise](std::exception_ptr e, T value) {
    if (e) {
      promise.set_exception(e);
    } else {
      promise.set_value(std::move(value));
    }
  });
  return future.get();
}

// ---- operations

// Raw keys: "raw:" ones carry the workload's TTL, as a hand-made cache's would (Redis then also
// looks a GET's key up in its expires table, as it does for every cache entry); "raw_no_ttl:"
// ones have none.
std::string raw_key(bool ttl, std::uint32_t key) {
  return (ttl ? "raw:" : "raw_no_ttl:") + offer_key(key);
}

asio::awaitable<Result<resp::Reply>> raw_get(redis::Client& client, bool ttl, std::uint32_t key) {
  resp::Request req;
  req.push("GET", raw_key(ttl, key));
  return client.exec(std::move(req));  // not a coroutine: the caller awaits the client's operation
}

asio::awaitable<Outcome> raw_set(redis::Client& client,
                                 std::optional<std::chrono::milliseconds> ttl, std::uint32_t key) {
  resp::Request req;
  if (ttl) {
    req.push("SET", raw_key(true, key), offer_json(key), "PX", std::to_string(ttl->count()));
  } else {
    req.push("SET", raw_key(false, key), offer_json(key));
  }
  auto reply = co_await client.exec(std::move(req));
  co_return Outcome{.failed = !reply || reply->is_error()};
}

asio::awaitable<Outcome> cache_set(cache::Cache& c, std::uint32_t key,
                                   std::chrono::milliseconds ttl) {
  cache::WriteOptions options{.ttl = ttl};
  auto r = co_await c.set(offer_key(key), offer_json(key), std::move(options));
  co_return Outcome{.failed = !r};
}

// The loader: a named coroutine (a capturing lambda must not be one), as a user would write it
// around a slow upstream: wait, then answer.
asio::awaitable<Result<std::string>> load_offer(std::uint32_t key, std::chrono::milliseconds delay,
                                                std::atomic<std::uint64_t>* runs) {
  runs->fetch_add(1, std::memory_order_relaxed);
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return offer_json(key);
}

asio::awaitable<Outcome> cache_get_or_load(cache::Cache& c, std::uint32_t key,
                                           std::chrono::milliseconds delay,
                                           std::chrono::milliseconds ttl,
                                           std::atomic<std::uint64_t>* runs) {
  cache::LoadPolicy policy{.write = {.ttl = ttl}};
  cache::Loader loader = [key, delay, runs] { return load_offer(key, delay, runs); };
  auto r = co_await c.get_or_load(offer_key(key), std::move(loader), std::move(policy));
  if (!r || !r->hit()) co_return Outcome{.failed = true};
  co_return Outcome{.source = r->source};
}

// ---- the machine

struct Machine {
  unsigned cpus = 0;
  std::string model = "unknown";
  std::string redis = "unknown";
  std::string date;
  bool release = true;
  bool sanitized = false;
};

Machine machine() {
  Machine m;
  cpu_set_t set;
  CPU_ZERO(&set);
  m.cpus = ::sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set))
                                                         : std::thread::hardware_concurrency();
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      m.model = line.substr(line.find(':') + 2);
      break;
    }
  }
  if (FILE* v = ::popen("redis-server --version", "r"); v != nullptr) {
    char buf[256] = {};
    if (std::fgets(buf, sizeof buf, v) != nullptr) {
      std::string text(buf);
      const auto at = text.find("v=");
      m.redis = at == std::string::npos ? text : text.substr(at + 2, text.find(' ', at) - at - 2);
    }
    ::pclose(v);
  }
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  m.date = date;
#if !defined(NDEBUG) || !defined(__OPTIMIZE__)
  m.release = false;
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  m.sanitized = true;
#endif
  return m;
}

// ---- output

constexpr double kTargetRatio = 0.8;

const Figures* target_row(const std::vector<Figures>& rows) {
  for (const Figures& f : rows) {
    if (f.target) return &f;
  }
  return nullptr;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

double share(const Figures& f, cache::Source source) {
  return f.ops == 0 ? 0
                    : 100.0 * static_cast<double>(f.sources[static_cast<std::size_t>(source)]) /
                          static_cast<double>(f.ops);
}

void print_table(FILE* out, const Machine& m, const Settings& s, const std::vector<Figures>& rows,
                 const std::string& trace_line) {
  std::fprintf(out,
               "machine: %u cpus, %s, shared, noisy; redis-server %s (private, TCP loopback)\n",
               m.cpus, m.model.c_str(), m.redis.c_str());
  if (!m.release) {
    std::fprintf(out,
                 "WARNING: not a Release build (asserts on or no optimisation): figures are not "
                 "representative\n");
  }
  if (m.sanitized) std::fprintf(out, "WARNING: built with a sanitizer\n");
  std::fprintf(out,
               "client:  1 pipelined link per client, %zu callers (coroutines) on %zu io_context "
               "thread(s); loader %lld ms, TTL %lld s\n",
               s.callers, s.threads, static_cast<long long>(s.loader_delay.count()),
               static_cast<long long>(s.ttl.count() / 1000));
  std::fprintf(out, "%s\n\n", trace_line.c_str());
  std::fprintf(out, "%-34s %-7s | %9s %6s | %7s %7s | %6s %6s | %6s %6s %6s %6s %6s | %7s\n",
               "phase", "L1", "ops/s", "ratio", "p50 ms", "p99 ms", "cpu us", "srv us", "l1%",
               "l2%", "load%", "stale%", "miss%", "loads");
  for (const Figures& f : rows) {
    std::string loads = "-";
    if (f.stats) loads = std::to_string(f.stats->loader_calls);
    std::fprintf(out,
                 "%-34s %-7s | %9.0f %6.2f | %7.3f %7.3f | %6.2f %6.2f | %6.1f %6.1f %6.1f %6.1f "
                 "%6.1f | %7s%s%s\n",
                 f.name.c_str(), f.l1.c_str(), f.ops_per_s, f.ratio, f.p50_ms, f.p99_ms,
                 f.cpu_us_per_op, f.server_us_per_op, share(f, cache::Source::l1),
                 share(f, cache::Source::l2), share(f, cache::Source::loader),
                 share(f, cache::Source::stale), share(f, cache::Source::none), loads.c_str(),
                 f.failures > 0 ? ("  (" + std::to_string(f.failures) + " failed!)").c_str() : "",
                 f.cut_short ? "  (cut short by --phase-limit-s)" : "");
  }
  std::fprintf(out,
               "\nratio = ops/s / raw GET ops/s (the first row); cpu us = this process's CPU time "
               "per op\n(getrusage, all threads); srv us = redis-server's (/proc). l1%%..miss%% = "
               "where each answer came\nfrom (ReadResult::source; raw GET counts as l2); loads = "
               "Cache::stats().loader_calls.\n");
  if (const Figures* t = target_row(rows)) {
    std::fprintf(out, "target: %s (L1 off) / raw GET = %.2fx, wanted >= %.2fx: %s\n",
                 t->name.c_str(), t->ratio, kTargetRatio,
                 t->ratio >= kTargetRatio ? "met" : "NOT met");
  }
  for (const Figures& f : rows) {
    if (!f.stats || f.stats->loader_calls == 0) continue;
    std::fprintf(out,
                 "%s, L1 %s: answers from the loader p50 %.3f ms, p99 %.3f ms; %llu loader runs, "
                 "%llu invalidations received",
                 f.name.c_str(), f.l1.c_str(), f.load_p50_ms, f.load_p99_ms,
                 static_cast<unsigned long long>(f.loader_runs),
                 static_cast<unsigned long long>(f.stats->invalidations_received));
    if (f.l1 != "off") {
      std::fprintf(out, "; L1 holds %zu entries at the end, its hit ratio %.1f%%", f.l1_entries,
                   100 * f.l1_hit_ratio);
    }
    std::fprintf(out, "\n");
  }
}

void print_json(const Machine& m, const Settings& s, const std::vector<Figures>& rows,
                std::size_t distinct, double top_share, double top_expected) {
  std::ostringstream o;
  o << "{\"bench\":\"tiercache cache_bench\",\"date\":" << json_string(m.date)
    << ",\"machine\":{\"cpus\":" << m.cpus << ",\"model\":" << json_string(m.model)
    << ",\"note\":\"shared, noisy\",\"redis\":" << json_string(m.redis)
    << ",\"release\":" << (m.release ? "true" : "false")
    << ",\"sanitizer\":" << (m.sanitized ? "true" : "false") << "}"
    << ",\"workload\":{\"keys\":" << s.keys << ",\"zipf\":" << s.zipf << ",\"seed\":" << s.seed
    << ",\"ops_per_phase\":" << s.ops << ",\"value_bytes\":" << kValueSize
    << ",\"callers\":" << s.callers << ",\"io_threads\":" << s.threads
    << ",\"loader_ms\":" << s.loader_delay.count() << ",\"ttl_s\":" << s.ttl.count() / 1000
    << ",\"distinct_keys\":" << distinct << ",\"rank0_share\":" << top_share
    << ",\"rank0_expected\":" << top_expected << "}";
  if (const Figures* t = target_row(rows)) {
    o << ",\"target\":{\"phase\":" << json_string(t->name) << ",\"ratio\":" << t->ratio
      << ",\"wanted\":" << kTargetRatio
      << ",\"met\":" << (t->ratio >= kTargetRatio ? "true" : "false") << "}";
  }
  o << ",\"phases\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Figures& f = rows[i];
    if (i > 0) o << ",";
    o << "{\"name\":" << json_string(f.name) << ",\"l1\":" << json_string(f.l1)
      << ",\"ops\":" << f.ops << ",\"seconds\":" << f.seconds << ",\"ops_per_s\":" << f.ops_per_s
      << ",\"ratio\":" << f.ratio << ",\"p50_ms\":" << f.p50_ms << ",\"p99_ms\":" << f.p99_ms
      << ",\"cpu_us_per_op\":" << f.cpu_us_per_op << ",\"server_us_per_op\":" << f.server_us_per_op
      << ",\"sources\":{";
    for (std::size_t k = 0; k < f.sources.size(); ++k) {
      if (k > 0) o << ",";
      o << json_string(std::string(cache::to_string(static_cast<cache::Source>(k)))) << ":"
        << f.sources[k];
    }
    o << "},\"failures\":" << f.failures << ",\"cut_short\":" << (f.cut_short ? "true" : "false");
    if (f.stats) {
      o << ",\"loader_calls\":" << f.stats->loader_calls << ",\"loader_runs\":" << f.loader_runs
        << ",\"background_refreshes\":" << f.stats->background_refreshes
        << ",\"lock_waits\":" << f.stats->lock_waits
        << ",\"fail_safe_served\":" << f.stats->fail_safe_served
        << ",\"invalidations_received\":" << f.stats->invalidations_received
        << ",\"load_p50_ms\":" << f.load_p50_ms << ",\"load_p99_ms\":" << f.load_p99_ms
        << ",\"l1_entries\":" << f.l1_entries << ",\"l1_hit_ratio\":" << f.l1_hit_ratio;
    }
    o << "}";
  }
  o << "]}\n";
  std::fputs(o.str().c_str(), stdout);
}

// ---- phases

// A Redis client for one phase (a Cache owns and stops its client). A Cache with L1 off gets an
// OPTIN tracking client, as tiercached gives it (redis::Config::tracking_optin).
enum class Tracking { off, all, optin };
std::shared_ptr<redis::Client> make_client(asio::io_context& io, const bench::PrivateRedis& server,
                                           Tracking tracking) {
  redis::Config cfg = server.config();
  cfg.client_tracking = tracking != Tracking::off;
  cfg.tracking_optin = tracking == Tracking::optin;
  cfg.request_timeout = 30s;
  cfg.link_timeout = 60s;
  return std::make_shared<redis::Client>(io.get_executor(), cfg);
}

std::string mib(std::size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fMiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

void progress(const Figures& f) {
  std::fprintf(stderr, "  %-34s %8zu ops in %6.2f s\n", f.name.c_str(), f.ops, f.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    usage();
    return 0;
  }
  const auto parsed = parse(argc, argv);
  if (!parsed) {
    usage();
    return 2;
  }
  Settings s = *parsed;
  const Machine m = machine();
  spdlog::set_level(spdlog::level::err);

  // The trace: the same keys in the same order for every phase.
  const bench::Zipf zipf(s.keys, s.zipf);
  std::vector<std::uint32_t> trace(s.ops);
  {
    bench::ZipfStream draw(zipf, s.seed);
    for (auto& k : trace) k = static_cast<std::uint32_t>(draw());
  }
  const std::size_t distinct = std::unordered_set<std::uint32_t>(trace.begin(), trace.end()).size();
  const double top_share =
      static_cast<double>(std::count(trace.begin(), trace.end(), 0u)) / static_cast<double>(s.ops);
  char trace_line[256];
  std::snprintf(trace_line, sizeof trace_line,
                "trace:   Zipf(%.2f) over %zu keys of %zu-byte JSON, seed %llu: %zu ops per phase, "
                "%zu distinct keys, rank 0 drawn %.2f%% (expected %.2f%%)",
                s.zipf, s.keys, kValueSize, static_cast<unsigned long long>(s.seed), s.ops,
                distinct, 100 * top_share, 100 * zipf.probability(0));
  std::vector<std::uint32_t> all_keys(s.keys);
  for (std::size_t k = 0; k < s.keys; ++k) all_keys[k] = static_cast<std::uint32_t>(k);
  const std::vector<std::uint32_t> warm_up(trace.begin(),
                                           trace.begin() + static_cast<std::ptrdiff_t>(s.ops / 10));

  bench::PrivateRedis server;
  s.server_pid = server.pid();
  asio::io_context io(static_cast<int>(s.threads));
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> io_threads;
  for (std::size_t i = 0; i < s.threads; ++i) io_threads.emplace_back([&io] { io.run(); });

  std::vector<Figures> rows;
  auto add = [&](Figures f, std::string name, std::string l1) {
    f.name = std::move(name);
    f.l1 = std::move(l1);
    f.ratio = rows.empty() ? 1.0 : f.ops_per_s / rows.front().ops_per_s;
    progress(f);
    rows.push_back(std::move(f));
  };
  std::fprintf(stderr, "cache_bench: %zu keys, %zu ops per phase, redis-server at %s\n", s.keys,
               s.ops, server.describe().c_str());

  // (a) The baseline: raw GETs of the same values, stored with the same TTL as the cache's
  // entries, through a plain Client; the same without a TTL; and through a client with CLIENT
  // TRACKING on in default mode (Redis then records every key read).
  // (b) Cache::get with L1 off, every key written first by Cache::set: every get is an L2 hit.
  // With the default Options (1 KB values are at the lz4 threshold), and without compression.
  // All run the trace in parts (--rounds, 10), taking turns, so that a change in the shared
  // machine's load falls on all of them alike: over 10 runs of one binary the target ratio
  // moved 0.75-0.95x with thirds of the trace (~1 s each), 0.75-0.86x with tenths.
  {
    const auto ttl = std::chrono::milliseconds(s.ttl);
    auto plain = make_client(io, server, Tracking::off);
    auto tracking = make_client(io, server, Tracking::all);
    plain->start();
    tracking->start();
    cache::Cache lz4(make_client(io, server, Tracking::optin),
                     cache::Options{.ns = "warm", .l1_bytes = 0});
    cache::Cache none(
        make_client(io, server, Tracking::optin),
        cache::Options{.ns = "warm_plain", .l1_bytes = 0, .compression = cache::Compression::none});
    struct Subject {
      const char* only;  // its --only name
      const char* name;
      Operation get;
      cache::Cache* cache;
      Sample sample{};
    };
    std::vector<Subject> subjects;
    subjects.push_back({"raw", "raw GET (baseline)",
                        RawGet([&plain](std::uint32_t k) { return raw_get(*plain, true, k); }),
                        nullptr});
    subjects.push_back({"raw_no_ttl", "raw GET, keys without TTL",
                        RawGet([&plain](std::uint32_t k) { return raw_get(*plain, false, k); }),
                        nullptr});
    subjects.push_back(
        {"tracking", "raw GET, tracking on",
         RawGet([&tracking](std::uint32_t k) { return raw_get(*tracking, true, k); }), nullptr});
    subjects.push_back({"warm", "Cache::get, warm",
                        CacheGet([&lz4](std::uint32_t k) { return lz4.get(offer_key(k)); }), &lz4});
    subjects.push_back({"warm_plain", "Cache::get, warm, no compression",
                        CacheGet([&none](std::uint32_t k) { return none.get(offer_key(k)); }),
                        &none});
    if (!s.only.empty()) {
      std::erase_if(subjects, [&s](const Subject& subject) { return s.only != subject.only; });
    }
    auto wanted = [&subjects](const cache::Cache* c) {
      return std::any_of(subjects.begin(), subjects.end(),
                         [c](const Subject& subject) { return subject.cache == c; });
    };
    std::fprintf(stderr, "  writing %zu keys for each phase (raw, lz4 entries, plain entries)\n",
                 s.keys);
    if (wanted(nullptr)) {
      for (const auto raw_ttl : {std::optional(ttl), std::optional<std::chrono::milliseconds>()}) {
        (void)measure(
            io, Other([&plain, raw_ttl](std::uint32_t k) { return raw_set(*plain, raw_ttl, k); }),
            all_keys, s);
      }
    }
    for (cache::Cache* c : {&lz4, &none}) {
      if (!wanted(c)) continue;
      (void)measure(io, Other([c, ttl](std::uint32_t k) { return cache_set(*c, k, ttl); }),
                    all_keys, s);
    }
    for (auto& subject : subjects) (void)measure(io, subject.get, warm_up, s);
    for (std::size_t r = 0; r < s.rounds; ++r) {
      const std::vector<std::uint32_t> part(
          trace.begin() + static_cast<std::ptrdiff_t>(r * s.ops / s.rounds),
          trace.begin() + static_cast<std::ptrdiff_t>((r + 1) * s.ops / s.rounds));
      for (auto& subject : subjects) subject.sample.add(measure(io, subject.get, part, s));
    }
    for (auto& subject : subjects) {
      Figures f = subject.sample.figures();
      if (subject.cache != nullptr) {
        f.stats = subject.cache->stats();
        f.target = subject.cache == &lz4;
      }
      add(std::move(f), subject.name, subject.cache != nullptr ? "off" : "-");
    }
    plain->stop();
    tracking->stop();
  }

  // (c) get_or_load from a cold cache (a fresh namespace each), L1 off, default, ~10% of data.
  std::size_t ten_percent = 0;
  {
    cache::Entry e;
    e.value = offer_json(0);
    ten_percent = s.keys / 10 * cache::L1::charge("zipf_l1_10pct:v0:" + offer_key(0), e);
  }
  const cache::Options defaults;
  struct Variant {
    const char* ns;
    std::size_t l1_bytes;
  };
  for (const Variant v : {Variant{"zipf_l1_off", 0}, Variant{"zipf_l1_default", defaults.l1_bytes},
                          Variant{"zipf_l1_10pct", ten_percent}}) {
    if (!s.only.empty() && s.only != "cold") break;
    cache::Cache c(make_client(io, server, v.l1_bytes == 0 ? Tracking::optin : Tracking::all),
                   cache::Options{.ns = v.ns, .l1_bytes = v.l1_bytes});
    std::atomic<std::uint64_t> runs{0};
    const auto delay = s.loader_delay;
    const auto ttl = std::chrono::milliseconds(s.ttl);
    const Operation load = Other([&c, delay, ttl, &runs](std::uint32_t k) {
      return cache_get_or_load(c, k, delay, ttl, &runs);
    });
    // Connect (and read the namespace version) before the clock starts; no key of the trace.
    (void)finish(io, c.get("connect"));
    Figures f = measure(io, load, trace, s).figures();
    f.stats = c.stats();
    f.loader_runs = runs.load();
    if (const cache::L1* l1 = c.l1()) {
      f.l1_entries = l1->entries();
      f.l1_hit_ratio = l1->stats().hit_ratio();
    }
    add(std::move(f), "get_or_load, cold", v.l1_bytes == 0 ? "off" : mib(v.l1_bytes));
  }

  guard.reset();
  for (auto& t : io_threads) t.join();

  if (s.json) {
    print_table(stderr, m, s, rows, trace_line);
    print_json(m, s, rows, distinct, top_share, zipf.probability(0));
  } else {
    print_table(stdout, m, s, rows, trace_line);
  }
  return 0;
}
