// client_bench: GET and SET (100-byte and 10 KB values) through redis::Client at 1, 16, 64 and
// 256 concurrent callers, and in the same run redis-benchmark against the same private
// redis-server with the same number of requests in flight (256 = -c 16 -P 16). Prints ops/s,
// p50, p99, their ratio, our CPU time per operation (getrusage around our run), and the
// server's CPU time per operation during each side's run (/proc/<pid>/stat): where the server
// is the limit, the side that costs it less per operation goes faster. Each case runs in four
// rounds, the sides taking turns; every figure is the median of the four.
// Run: build/release/bench/client_bench [requests-per-case [links [case]]]   (see bench/README.md)
// `case` runs one case only, for profiling: e.g. GET/100/256 (op/size/in-flight).

#include "tiercache/redis/client.hpp"

#include "support/measure.hpp"
#include "support/private_redis.hpp"
#include "support/redis_benchmark.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace redis = tiercache::redis;
namespace resp = tiercache::resp;
using Clock = std::chrono::steady_clock;
using tiercache::bench::cpu_seconds;
using tiercache::bench::Figures;
using tiercache::bench::in_flight_args;
using tiercache::bench::process_cpu_seconds;
using tiercache::bench::run_redis_benchmark;
using tiercache::bench::summarize;

// Each case runs in rounds, the two sides taking turns (ABBA), and each figure printed is the
// median of its rounds: on a shared machine a drift of load over a case would otherwise fall on
// whichever side ran second.
constexpr std::size_t kRounds = 4;

struct Run {
  redis::Client* client;
  bool set;
  const std::string* value;
  std::size_t remaining_callers;
  std::size_t errors = 0;
  std::promise<void> done;
};

asio::awaitable<void> caller(Run& run, std::size_t n, std::vector<double>& latencies) {
  for (std::size_t i = 0; i < n; ++i) {
    resp::Request req;
    if (run.set) {
      req.push("SET", "bench:key", *run.value);
    } else {
      req.push("GET", "bench:key");
    }
    const auto t0 = Clock::now();
    auto reply = co_await run.client->exec(std::move(req));
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!reply || reply->is_error()) ++run.errors;
  }
  if (--run.remaining_callers == 0) run.done.set_value();
}

// What both sides' GETs read, written before each GET case: a run of a GET case alone would
// otherwise measure nil replies on its fresh server. "key:__rand_int__" is redis-benchmark's key
// for -t set/get without -r.
asio::awaitable<void> seed_keys(redis::Client* client, std::string value) {
  resp::Request req;
  req.push("SET", "bench:key", value);
  req.push("SET", "key:__rand_int__", value);
  auto reply = co_await client->exec(std::move(req));
  if (!reply || reply->is_error()) std::fprintf(stderr, "client_bench: cannot seed the GET keys\n");
}

Figures run_ours(asio::io_context& io, redis::Client& client, bool set, const std::string& value,
                 std::size_t callers, std::size_t total) {
  const std::size_t per = total / callers;
  std::vector<std::vector<double>> latencies(callers);
  for (auto& l : latencies) l.reserve(per);
  Run run{&client, set, &value, callers};
  auto finished = run.done.get_future();
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < callers; ++i) {
    asio::co_spawn(io, caller(run, per, latencies[i]), asio::detached);
  }
  finished.wait();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  return summarize(latencies, wall, cpu, run.errors);
}

Figures run_baseline(std::uint16_t port, bool set, std::size_t size, std::size_t in_flight,
                     std::size_t total) {
  std::ostringstream args;
  args << "-h 127.0.0.1 -p " << port << " -t " << (set ? "set" : "get") << " -d " << size << " -n "
       << total << in_flight_args(in_flight);
  return run_redis_benchmark(args.str(), set ? "SET" : "GET", total);
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

}  // namespace

int main(int argc, char** argv) {
  const std::size_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const std::size_t links = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const std::string only = argc > 3 ? argv[3] : "";
  print_machine();
  std::printf("client:  %zu pipelined link(s), %zu requests per case\n", links, requests);
  tiercache::bench::PrivateRedis server;
  asio::io_context io(1);
  auto guard = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  redis::Config cfg;
  cfg.port = server.port();
  cfg.request_timeout = std::chrono::seconds(30);
  cfg.link_timeout = std::chrono::seconds(60);
  cfg.connections = links;
  redis::Client client(io.get_executor(), cfg);
  client.start();

  std::printf("\n%-4s %6s %5s | %11s %8s %8s %7s | %11s %8s %8s %7s | %6s %6s | %8s %8s\n", "op",
              "size", "infl", "ours ops/s", "p50 ms", "p99 ms", "srv us", "r-b ops/s", "p50 ms",
              "p99 ms", "srv us", "ratio", "p50x", "cpu us", "r-b cpu");
  for (std::size_t size : {std::size_t{100}, std::size_t{10240}}) {
    const std::string value(size, 'v');
    for (bool set : {true, false}) {
      for (std::size_t in_flight :
           {std::size_t{1}, std::size_t{16}, std::size_t{64}, std::size_t{256}}) {
        const std::string name = std::string(set ? "SET" : "GET") + "/" + std::to_string(size) +
                                 "/" + std::to_string(in_flight);
        if (!only.empty() && only != name) continue;
        const std::size_t n = in_flight == 1 ? requests / 5 : requests;
        if (!set) asio::co_spawn(io, seed_keys(&client, value), asio::use_future).get();
        // One side's run of `n / kRounds` requests, with the server's CPU per operation meanwhile.
        const auto with_server_cpu = [&](auto run) {
          const double before = process_cpu_seconds(server.pid());
          Figures f = run();
          const double used = process_cpu_seconds(server.pid()) - before;
          f.server_us_per_op = before < 0 ? 0.0 : used * 1e6 / static_cast<double>(n / kRounds);
          return f;
        };
        std::vector<Figures> ours_rounds, base_rounds;
        for (std::size_t round = 0; round < kRounds; ++round) {
          const auto ours_turn = [&] {
            ours_rounds.push_back(with_server_cpu(
                [&] { return run_ours(io, client, set, value, in_flight, n / kRounds); }));
          };
          const auto base_turn = [&] {
            base_rounds.push_back(with_server_cpu(
                [&] { return run_baseline(server.port(), set, size, in_flight, n / kRounds); }));
          };
          // ABBA: who goes first alternates, so that a drift of the machine falls on both alike.
          if (round % 4 == 0 || round % 4 == 3) {
            ours_turn();
            base_turn();
          } else {
            base_turn();
            ours_turn();
          }
        }
        const Figures ours = tiercache::bench::median(ours_rounds);
        const Figures base = tiercache::bench::median(base_rounds);
        std::printf(
            "%-4s %6zu %5zu | %11.0f %8.3f %8.3f %7.2f | %11.0f %8.3f %8.3f %7.2f | %6.2f %6.2f | "
            "%8.2f %8.2f%s\n",
            set ? "SET" : "GET", size, in_flight, ours.ops, ours.p50_ms, ours.p99_ms,
            ours.server_us_per_op, base.ops, base.p50_ms, base.p99_ms, base.server_us_per_op,
            base.ops > 0 ? ours.ops / base.ops : 0, base.p50_ms > 0 ? ours.p50_ms / base.p50_ms : 0,
            ours.cpu_us_per_op, base.cpu_us_per_op, ours.errors > 0 ? "  (errors!)" : "");
        std::fflush(stdout);
      }
    }
  }
  std::printf(
      "\nratio = ours/redis-benchmark throughput; p50x = ours/redis-benchmark p50; srv us = "
      "redis-server's CPU time per operation during that side's run; cpu us, r-b cpu = the "
      "client's CPU time per operation (ours, redis-benchmark's). Each figure is the median of %zu "
      "rounds, the two sides taking turns.\n",
      kRounds);
  client.stop();
  guard.reset();
  io.stop();
  io_thread.join();
  return 0;
}
