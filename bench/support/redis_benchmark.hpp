#pragma once
// The figures of one Redis benchmark case, ours or redis-benchmark's, and the two ways to get
// them: summarize() over latencies we recorded, run_redis_benchmark() over redis-benchmark's CSV;
// median() of several rounds of one side.
// Use: Figures ours = summarize(latencies, wall_s, cpu_s, errors);
//      Figures base = run_redis_benchmark("-p 6379 -t get -n 100000" + in_flight_args(256), "GET");
//      Figures typical = median(rounds);
// Thread-safety: plain functions; run_redis_benchmark forks redis-benchmark (call it from main).

#include "support/measure.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::bench {

struct Figures {
  double ops = 0, p50_ms = 0, p99_ms = 0, cpu_us_per_op = 0;
  double server_us_per_op = 0;  // the server's CPU per operation meanwhile, where it was measured
  std::size_t errors = 0;
};

// Each figure's median over `rounds` (the mean of the middle two for an even count); the errors
// of all of them.
inline Figures median(const std::vector<Figures>& rounds) {
  const auto mid = [&](double Figures::*field) {
    std::vector<double> v;
    for (const auto& f : rounds) v.push_back(f.*field);
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  Figures out;
  out.ops = mid(&Figures::ops);
  out.p50_ms = mid(&Figures::p50_ms);
  out.p99_ms = mid(&Figures::p99_ms);
  out.cpu_us_per_op = mid(&Figures::cpu_us_per_op);
  out.server_us_per_op = mid(&Figures::server_us_per_op);
  for (const auto& f : rounds) out.errors += f.errors;
  return out;
}

// Ops/s, p50 and p99 (ms) and CPU per op of the latencies (ms) recorded by every caller over
// `wall` seconds, during which this process used `cpu` seconds.
inline Figures summarize(const std::vector<std::vector<double>>& latencies, double wall, double cpu,
                         std::size_t errors) {
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Figures f;
  f.ops = static_cast<double>(all.size()) / wall;
  f.p50_ms = percentile(all, 0.50);
  f.p99_ms = percentile(all, 0.99);
  f.cpu_us_per_op = cpu * 1e6 / static_cast<double>(all.size());
  f.errors = errors;
  return f;
}

// redis-benchmark's connections and pipeline depth for `in_flight` requests in flight: one
// connection each up to 64, then 16 connections pipelining in_flight / 16 (256 = -c 16 -P 16).
inline std::string in_flight_args(std::size_t in_flight) {
  const std::size_t clients = in_flight > 64 ? 16 : in_flight;
  const std::size_t pipeline = in_flight / clients;
  std::string out = " -c " + std::to_string(clients);
  if (pipeline > 1) out += " -P " + std::to_string(pipeline);
  return out;
}

// Runs `redis-benchmark <args> --csv` and reads the row of `test` ("GET", "SET"): ops/s, p50
// and p99, and, given the `requests` it makes, its CPU time per request (the shell and
// redis-benchmark, once ended: RUSAGE_CHILDREN). Zeros when redis-benchmark is missing or
// printed no such row.
inline Figures run_redis_benchmark(const std::string& args, std::string_view test,
                                   std::size_t requests = 0) {
  const std::string cmd = "redis-benchmark " + args + " --csv 2>/dev/null";
  const std::string row = "\"" + std::string(test) + "\"";
  Figures f;
  const double cpu0 = children_cpu_seconds();
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return f;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string s(line);
    if (s.rfind(row, 0) != 0) continue;
    std::vector<double> fields;
    std::stringstream in(s);
    std::string field;
    while (std::getline(in, field, ',')) {
      field.erase(std::remove(field.begin(), field.end(), '"'), field.end());
      fields.push_back(std::atof(field.c_str()));
    }
    if (fields.size() >= 7) {  // test, rps, avg, min, p50, p95, p99, max
      f.ops = fields[1];
      f.p50_ms = fields[4];
      f.p99_ms = fields[6];
    }
  }
  ::pclose(pipe);
  if (requests > 0 && f.ops > 0) {
    f.cpu_us_per_op = (children_cpu_seconds() - cpu0) * 1e6 / static_cast<double>(requests);
  }
  return f;
}

}  // namespace tiercache::bench
