#include "server/dashboard/sample.hpp"

#include <boost/json/value.hpp>

#include <cmath>
#include <numeric>

namespace tiercache::server::dashboard {
namespace {

namespace json = boost::json;

// Three decimals are more than a chart can show; they keep the JSON short.
double rounded(double v) { return std::round(v * 1000) / 1000; }

json::value optional_number(const std::optional<double>& v) {
  return v ? json::value(rounded(*v)) : json::value(nullptr);
}

}  // namespace

json::object to_json(const Sample& s) {
  json::object o;
  o["seq"] = s.seq;
  o["t"] = s.unix_ms;
  o["seconds"] = rounded(s.seconds);
  o["ops_per_s"] = rounded(s.ops_per_s);
  o["hit_rate"] = optional_number(s.hit_rate);
  o["p50_ms"] = optional_number(s.p50_ms);
  o["p99_ms"] = optional_number(s.p99_ms);
  o["l1_bytes"] = s.l1_bytes;
  o["l1_entries"] = s.l1_entries;
  o["l1_evictions_per_s"] = rounded(s.l1_evictions_per_s);
  o["degraded"] = s.degraded;
  if (s.redis) {
    o["redis"] = {{"reachable", s.redis->reachable},
                  {"used_memory", s.redis->used_memory},
                  {"maxmemory", s.redis->maxmemory},
                  {"evictions_per_s", rounded(s.redis->evictions_per_s)}};
  } else {
    o["redis"] = nullptr;
  }
  json::object namespaces;
  for (const auto& [name, n] : s.namespaces) {
    namespaces[name] = {{"reads_per_s", rounded(n.reads_per_s)},
                        {"writes_per_s", rounded(n.writes_per_s)},
                        {"hits_l1_per_s", rounded(n.hits_l1_per_s)},
                        {"hits_l2_per_s", rounded(n.hits_l2_per_s)},
                        {"stale_per_s", rounded(n.stale_per_s)},
                        {"misses_per_s", rounded(n.misses_per_s)},
                        {"errors_per_s", rounded(n.errors_per_s)},
                        {"hit_rate", optional_number(n.hit_rate)},
                        {"p50_ms", optional_number(n.p50_ms)},
                        {"p99_ms", optional_number(n.p99_ms)},
                        {"l1_bytes", n.l1_bytes},
                        {"l1_entries", n.l1_entries},
                        {"l1_evictions_per_s", rounded(n.l1_evictions_per_s)}};
  }
  o["namespaces"] = std::move(namespaces);
  json::object limits;
  for (const auto& [name, l] : s.limits) {
    limits[name] = {{"allowed_per_s", rounded(l.allowed_per_s)},
                    {"denied_per_s", rounded(l.denied_per_s)}};
  }
  o["limits"] = std::move(limits);
  return o;
}

std::optional<double> bucket_quantile(std::span<const double> bounds,
                                      std::span<const std::uint64_t> counts, double q) {
  if (counts.size() != bounds.size() + 1 || bounds.empty()) return std::nullopt;
  const std::uint64_t total = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const std::uint64_t upto = below + counts[i];
    if (counts[i] > 0 && static_cast<double>(upto) >= rank) {
      const double lower = i == 0 ? 0.0 : bounds[i - 1];
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return lower + (bounds[i] - lower) * within;
    }
    below = upto;
  }
  return bounds.back();
}

void SampleRing::push(Sample sample) {
  samples_.push_back(std::move(sample));
  while (samples_.size() > capacity_) samples_.pop_front();
}

json::array SampleRing::since(std::uint64_t after) const {
  json::array out;
  for (const auto& s : samples_) {
    if (s.seq > after) out.push_back(to_json(s));
  }
  return out;
}

}  // namespace tiercache::server::dashboard
