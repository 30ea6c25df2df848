// cluster_bench: GET throughput on one redis-server against a 3-master Redis Cluster on the same
// machine (issue #9), through redis::Client and redis::ClusterClient, with redis-benchmark on each
// (its --cluster mode for the cluster) in the same run as the baseline. 1,000 keys of 100 bytes,
// spread over every slot range; 64 and 256 concurrent callers (coroutines on one io_context
// thread). Prints ops/s, p50, p99, our CPU time per operation and the ratio to redis-benchmark.
// Run: build/release/bench/cluster_bench [requests-per-case]   (see bench/README.md)

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/cluster_client.hpp"

#include "support/measure.hpp"
#include "support/private_cluster.hpp"
#include "support/private_redis.hpp"
#include "support/redis_benchmark.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace redis = tiercache::redis;
namespace resp = tiercache::resp;
using Clock = std::chrono::steady_clock;
using tiercache::bench::cpu_seconds;
using tiercache::bench::Figures;
using tiercache::bench::in_flight_args;
using tiercache::bench::run_redis_benchmark;
using tiercache::bench::summarize;

constexpr std::size_t kKeys = 1000;

std::string key_of(std::size_t i) { return "key:" + std::to_string(i); }

struct Run {
  redis::AnyClient* client;
  std::size_t remaining_callers;
  std::size_t errors = 0;
  std::promise<void> done;
};

asio::awaitable<void> caller(Run& run, std::size_t first, std::size_t n,
                             std::vector<double>& latencies) {
  for (std::size_t i = 0; i < n; ++i) {
    resp::Request req;
    req.push("GET", key_of((first + i * 7919) % kKeys));
    const auto t0 = Clock::now();
    auto reply = co_await run.client->exec(std::move(req));
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!reply || reply->is_error() || reply->is_null()) ++run.errors;
  }
  if (--run.remaining_callers == 0) run.done.set_value();
}

Figures run_ours(asio::io_context& io, redis::AnyClient& client, std::size_t callers,
                 std::size_t total) {
  const std::size_t per = total / callers;
  std::vector<std::vector<double>> latencies(callers);
  for (auto& l : latencies) l.reserve(per);
  Run run{&client, callers};
  auto finished = run.done.get_future();
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < callers; ++i) {
    asio::co_spawn(io, caller(run, i * 131, per, latencies[i]), asio::detached);
  }
  finished.wait();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  return summarize(latencies, wall, cpu, run.errors);
}

// redis-benchmark GETs of key:__rand_int__ over the same 1,000 keys (-r), with as many requests
// in flight (256 = -c 16 -P 16).
Figures run_baseline(std::uint16_t port, bool cluster, std::size_t in_flight, std::size_t total) {
  std::ostringstream args;
  args << "-h 127.0.0.1 -p " << port << (cluster ? " --cluster" : "") << " -t get -d 100 -r "
       << kKeys << " -n " << total << in_flight_args(in_flight);
  return run_redis_benchmark(args.str(), "GET");
}

asio::awaitable<void> write_keys(redis::AnyClient& client, std::promise<void>& done) {
  for (std::size_t i = 0; i < kKeys; ++i) {
    resp::Request req;
    req.push("SET", key_of(i), std::string(100, 'v'));
    (void)co_await client.exec(std::move(req));
  }
  done.set_value();
}

// Writes the 1,000 keys (100-byte values) through `client`.
void load_keys(asio::io_context& io, redis::AnyClient& client) {
  std::promise<void> done;
  asio::co_spawn(io, write_keys(client, done), asio::detached);
  done.get_future().wait();
}

void print_row(const char* topology, std::size_t in_flight, const Figures& ours,
               const Figures& base) {
  std::printf("%-9s %5zu | %11.0f %8.3f %8.3f | %11.0f %8.3f %8.3f | %6.2f | %8.2f%s\n", topology,
              in_flight, ours.ops, ours.p50_ms, ours.p99_ms, base.ops, base.p50_ms, base.p99_ms,
              base.ops > 0 ? ours.ops / base.ops : 0, ours.cpu_us_per_op,
              ours.errors > 0 ? "  (errors!)" : "");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  std::printf("machine: %u cpus (the nodes, redis-benchmark and this client share them)\n",
              std::thread::hardware_concurrency());
#if !defined(NDEBUG) || !defined(__OPTIMIZE__)
  std::printf("WARNING: not a Release build: figures are not representative\n");
#endif
  std::printf("workload: GET of %zu keys x 100 B, %zu requests per case\n", kKeys, requests);
  tiercache::bench::PrivateRedis single;
  tiercache::bench::PrivateCluster cluster(3);

  asio::io_context io(1);
  auto guard = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  redis::Config cfg;
  cfg.request_timeout = std::chrono::seconds(30);
  cfg.link_timeout = std::chrono::seconds(60);
  redis::Config single_cfg = cfg;
  single_cfg.port = single.port();
  redis::Client one(io.get_executor(), single_cfg);
  redis::ClusterClient three(io.get_executor(), cfg,
                             redis::ClusterOptions{.seeds = cluster.seeds()});
  one.start();
  three.start();
  load_keys(io, one);
  load_keys(io, three);

  std::printf("\n%-9s %5s | %11s %8s %8s | %11s %8s %8s | %6s | %8s\n", "topology", "infl",
              "ours ops/s", "p50 ms", "p99 ms", "r-b ops/s", "p50 ms", "p99 ms", "ratio",
              "cpu us/op");
  for (std::size_t in_flight : {std::size_t{64}, std::size_t{256}}) {
    // Interleaved, so the shared machine's changes of load fall on both alike.
    for (int round = 0; round < 2; ++round) {
      print_row("1 node", in_flight, run_ours(io, one, in_flight, requests),
                run_baseline(single.port(), false, in_flight, requests));
      print_row("3 masters", in_flight, run_ours(io, three, in_flight, requests),
                run_baseline(cluster.first_port(), true, in_flight, requests));
    }
  }
  std::printf("\nratio = ours / redis-benchmark on the same topology.\n");
  one.stop();
  three.stop();
  guard.reset();
  io.stop();
  io_thread.join();
  return 0;
}
