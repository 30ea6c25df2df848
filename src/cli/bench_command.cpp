// bench: drives GET/SET against the daemon's REST API from N threads (one keep-alive connection
// each) for a number of requests or a duration, then prints throughput and percentiles (with
// --redis: redis_bench.cpp). Loopback only unless --allow-remote: a benchmark is a load, not
// something to point at production by accident.

#include "cli/bench.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/text.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <thread>

namespace tiercache::cli {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct Shared {
  ServerUrl server;
  std::string token;
  std::chrono::milliseconds timeout;
  std::string ns;
  std::uint64_t keys;
  std::string value;
  double read_ratio;
  std::uint64_t requests;      // 0: until the deadline
  Clock::time_point deadline;  // time_point::max(): until `requests` are done
  std::atomic<std::uint64_t> issued{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> stop{false};
};

void worker(Shared& s, std::size_t index, BenchTally& out) {
  HttpClient client(s.server, s.token, s.timeout);
  std::mt19937_64 rng(0x7ea5e + index);
  std::uniform_int_distribution<std::uint64_t> key_of(0, s.keys - 1);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const std::string prefix = "/v1/cache/" + url_encode(s.ns) + "/bench%3A";
  while (!s.stop.load(std::memory_order_relaxed)) {
    if (s.requests > 0) {
      if (s.issued.fetch_add(1, std::memory_order_relaxed) >= s.requests) break;
    } else if (Clock::now() >= s.deadline) {
      break;
    }
    const bool read = coin(rng) < s.read_ratio;
    const std::string target = prefix + std::to_string(key_of(rng));
    const auto start = Clock::now();
    auto r = read ? client.request(http::verb::get, target)
                  : client.request(http::verb::put, target, s.value);
    out.latency.record(Clock::now() - start);
    read ? ++out.gets : ++out.sets;
    if (!r) {
      ++out.errors;
      if (out.first_error.empty()) out.first_error = r.error().message();
    } else if (read && r->status == 200) {
      ++out.hits;
    } else if (read && r->status == 404) {
      ++out.misses;
    } else if (r->status >= 300) {
      ++out.errors;
      if (out.first_error.empty()) {
        out.first_error = "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200);
      }
    }
    s.done.fetch_add(1, std::memory_order_relaxed);
  }
}

// Writes the keyspace once, so that reads hit: POST .../batch/set, 1000 keys a request.
int prefill(Context& ctx, const BenchArgs& a, const std::string& value) {
  for (std::uint64_t first = 0; first < a.keys; first += 1000) {
    json::array items;
    for (std::uint64_t i = first; i < std::min<std::uint64_t>(a.keys, first + 1000); ++i) {
      items.push_back(json::object{{"key", "bench:" + std::to_string(i)}, {"value", value}});
    }
    json::object body{{"items", std::move(items)}};
    auto r = ctx.call(http::verb::post, "/v1/cache/" + url_encode(a.ns) + "/batch/set",
                      json::serialize(body), {}, {{"Content-Type", "application/json"}});
    if (!r) return r.exit;
  }
  return 0;
}

int bench(Context& ctx, const BenchArgs& a) {
  if (ctx.redis_mode()) return redis_bench(ctx, a);
  if (!is_loopback(ctx.server) && !a.allow_remote) {
    return ctx.fail(ExitCode::usage, "bench loads the daemon; " + ctx.server.host +
                                         " is not this machine: add --allow-remote if you mean it");
  }
  auto planned = plan_bench(ctx, a);
  if (const int* code = std::get_if<int>(&planned)) return *code;
  const auto [requests, duration] = std::get<BenchPlan>(planned);

  const std::string value(a.value_size, 'x');
  if (a.read_ratio > 0 && !a.no_prefill) {
    if (const int code = prefill(ctx, a, value)) return code;
  }

  Shared s{.server = ctx.server,
           .token = ctx.token,
           .timeout = ctx.timeout,
           .ns = a.ns,
           .keys = a.keys,
           .value = value,
           .read_ratio = a.read_ratio,
           .requests = requests,
           .deadline = duration ? Clock::now() + *duration : Clock::time_point::max()};
  std::vector<BenchTally> results(a.concurrency);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  {
    ProgressBar bar(ctx.err, ctx.terminal.stderr_tty && !ctx.json, "bench", requests,
                    duration.value_or(std::chrono::milliseconds{}));
    for (std::size_t i = 0; i < a.concurrency; ++i) {
      threads.emplace_back(worker, std::ref(s), i, std::ref(results[i]));
    }
    // The workers end by themselves (count or deadline); this thread only draws.
    std::atomic<bool> running = true;
    std::thread joiner([&] {
      for (auto& t : threads) t.join();
      running = false;
    });
    while (running) {
      bar.update(s.done.load());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    joiner.join();
    bar.update(s.done.load());
  }
  const auto elapsed = Clock::now() - start;
  BenchTally total;
  for (const auto& r : results) total.merge(r);
  return report_bench(ctx, a, total, elapsed, "connections");
}

}  // namespace

void BenchTally::merge(const BenchTally& other) {
  latency.merge(other.latency);
  gets += other.gets;
  sets += other.sets;
  hits += other.hits;
  misses += other.misses;
  errors += other.errors;
  if (first_error.empty()) first_error = other.first_error;
}

std::variant<BenchPlan, int> plan_bench(Context& ctx, const BenchArgs& a) {
  std::optional<std::chrono::milliseconds> duration;
  if (!a.duration.empty()) {
    duration = parse_duration(a.duration);
    if (!duration || duration->count() == 0 || *duration > kMaxBenchDuration) {
      return ctx.fail(ExitCode::usage, "--duration '" + a.duration +
                                           "' must be a duration up to 1h (as 10s, 2m, 500ms)");
    }
    if (a.requests > 0) return ctx.fail(ExitCode::usage, "give --requests or --duration, not both");
  }
  return BenchPlan{.requests = duration ? 0 : (a.requests > 0 ? a.requests : 10'000),
                   .duration = duration};
}

int report_bench(Context& ctx, const BenchArgs& a, const BenchTally& total,
                 std::chrono::steady_clock::duration elapsed, std::string_view links) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const auto n = total.latency.count();
  const double throughput = seconds > 0 ? static_cast<double>(n) / seconds : 0;
  const auto ms = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; };
  if (ctx.json) {
    json::object o{{"requests", n},
                   {"gets", total.gets},
                   {"sets", total.sets},
                   {"hits", total.hits},
                   {"misses", total.misses},
                   {"errors", total.errors},
                   {"concurrency", a.concurrency},
                   {"target", ctx.redis_mode() ? "redis" : "daemon"},
                   {"seconds", seconds},
                   {"throughput", throughput},
                   {"p50_ms", ms(total.latency.percentile(0.5))},
                   {"p90_ms", ms(total.latency.percentile(0.9))},
                   {"p99_ms", ms(total.latency.percentile(0.99))},
                   {"max_ms", ms(total.latency.max())}};
    ctx.out << json::serialize(o) << "\n";
  } else {
    char line[128];
    std::snprintf(line, sizeof line, "%.0f requests/s", throughput);
    ctx.out << n << " requests (" << total.gets << " GET, " << total.sets << " SET) from "
            << a.concurrency << " " << links << " in " << human_duration(elapsed) << "\n";
    Table t({"throughput", line});
    t.add({"p50", human_duration(total.latency.percentile(0.5))});
    t.add({"p90", human_duration(total.latency.percentile(0.9))});
    t.add({"p99", human_duration(total.latency.percentile(0.99))});
    t.add({"max", human_duration(total.latency.max())});
    t.add({"GET hits", total.gets > 0 ? percent(static_cast<double>(total.hits) /
                                                static_cast<double>(total.gets))
                                      : "-"});
    t.add({"errors", std::to_string(total.errors)});
    t.print(ctx.out);
  }
  if (total.errors > 0) {
    ctx.err << "tiercache: " << total.errors << " requests failed (first: " << total.first_error
            << ")\n";
    return total.errors == n ? to_int(ExitCode::unreachable) : to_int(ExitCode::server_error);
  }
  return to_int(ExitCode::ok);
}

void add_bench_command(CLI::App& app, std::vector<Command>& out) {
  auto args = std::make_shared<BenchArgs>();
  auto* sub = app.add_subcommand("bench", "load the daemon (or Redis) with GET/SET and measure it");
  sub->add_option("-n,--namespace", args->ns,
                  "namespace of the keys bench:0..N-1 (default "
                  "\"default\")");
  sub->add_option("-c,--concurrency", args->concurrency,
                  "connections, one thread each (1-256, default 4); with --redis, "
                  "requests in flight on one pipelined link")
      ->check(CLI::Range(1, 256));
  auto* requests = sub->add_option("-r,--requests", args->requests,
                                   "requests in all (default 10000, at most 10000000)")
                       ->check(CLI::Range(std::uint64_t{1}, kMaxBenchRequests));
  sub->add_option("-d,--duration", args->duration, "run this long instead (10s, 2m; at most 1h)")
      ->excludes(requests);
  sub->add_option("--keys", args->keys, "distinct keys, chosen uniformly (default 1000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000}));
  sub->add_option("--value-size", args->value_size, "bytes per value (default 100, at most 1 MiB)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  sub->add_option("--read-ratio", args->read_ratio, "fraction of GETs, 0-1 (default 0.9)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_flag("--no-prefill", args->no_prefill, "do not write the keys first (GETs will miss)");
  sub->add_flag("--allow-remote", args->allow_remote, "allow a --server that is not loopback");
  sub->footer(
      "Latency is measured per request, client side (connection kept alive).\n"
      "Exit: 0 no errors, 5 some requests failed, 3 all failed.\n"
      "Examples:\n"
      "  tiercache bench\n"
      "  tiercache bench --concurrency 16 --duration 30s --read-ratio 0.99 --value-size 1024\n"
      "  tiercache bench --requests 100000 --json | jq .p99_ms\n"
      "  tiercache --redis redis://127.0.0.1:6379 bench --concurrency 64   # the library on Redis");
  out.push_back({sub, [args](Context& ctx) { return bench(ctx, *args); }, nullptr});
}

}  // namespace tiercache::cli
