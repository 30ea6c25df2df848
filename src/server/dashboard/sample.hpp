#pragma once
// Sample: what the dashboard's history keeps of one sampling interval (rates over the interval,
// levels at its end), its JSON form, and SampleRing, the bounded buffer of the last N samples.
// Also bucket_quantile, the p50/p99 of an interval read from latency histogram buckets.
// Use: ring.push(sample);  boost::json::array a = ring.since(last_seq);
// Thread-safety: plain values; SampleRing is not thread-safe (History locks around it).

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace tiercache::server::dashboard {

// One namespace over one interval. Rates are per second; hit rates are hits over reads in the
// interval (nullopt when it saw no read); latencies are the interval's REST operations (get,
// set, delete merged), in milliseconds (nullopt when none ran).
struct NamespaceSample {
  double reads_per_s = 0;
  double writes_per_s = 0;  // REST sets and deletes
  double hits_l1_per_s = 0;
  double hits_l2_per_s = 0;
  double stale_per_s = 0;
  double misses_per_s = 0;
  double errors_per_s = 0;
  std::optional<double> hit_rate;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
  std::uint64_t l1_bytes = 0;
  std::uint64_t l1_entries = 0;
  double l1_evictions_per_s = 0;  // entries evicted for room or expired
};

// Redis as one INFO saw it at the end of the interval.
struct RedisSample {
  bool reachable = false;
  std::uint64_t used_memory = 0;
  std::uint64_t maxmemory = 0;  // 0: no limit
  double evictions_per_s = 0;   // evicted_keys over the interval
};

// Decisions of one rate limit over the interval.
struct LimitSample {
  double allowed_per_s = 0;
  double denied_per_s = 0;
};

struct Sample {
  std::uint64_t seq = 0;     // 1, 2, ... in the order taken
  std::int64_t unix_ms = 0;  // when taken (wall clock)
  double seconds = 0;        // the interval's length
  double ops_per_s = 0;      // reads + writes of every namespace
  std::optional<double> hit_rate;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
  std::uint64_t l1_bytes = 0;
  std::uint64_t l1_entries = 0;
  double l1_evictions_per_s = 0;
  bool degraded = false;             // L1 alone, or Redis did not answer this sample's INFO
  std::optional<RedisSample> redis;  // nullopt in L1-only mode
  std::map<std::string, NamespaceSample, std::less<>> namespaces;
  std::map<std::string, LimitSample, std::less<>> limits;
};

boost::json::object to_json(const Sample& sample);

// The q-quantile (0 < q < 1) of the observations counted in Prometheus-style buckets: counts[i]
// observations <= bounds[i], one more count for +Inf last. Interpolates linearly inside the
// bucket that holds it, as PromQL's histogram_quantile; in the +Inf bucket, the last bound.
// nullopt when the counts are all zero. REQUIRES: counts.size() == bounds.size() + 1.
std::optional<double> bucket_quantile(std::span<const double> bounds,
                                      std::span<const std::uint64_t> counts, double q);

// The last `capacity` samples, oldest first.
class SampleRing {
 public:
  // REQUIRES: capacity >= 1.
  explicit SampleRing(std::size_t capacity) : capacity_(capacity) {}

  // Appends, dropping the oldest sample past capacity.
  void push(Sample sample);
  // The samples with seq > after, oldest first, as JSON.
  boost::json::array since(std::uint64_t after) const;
  std::size_t size() const noexcept { return samples_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  // The newest sample's seq; 0 when empty.
  std::uint64_t last_seq() const noexcept { return samples_.empty() ? 0 : samples_.back().seq; }
  const Sample* newest() const noexcept { return samples_.empty() ? nullptr : &samples_.back(); }

 private:
  std::size_t capacity_;
  std::deque<Sample> samples_;
};

}  // namespace tiercache::server::dashboard
