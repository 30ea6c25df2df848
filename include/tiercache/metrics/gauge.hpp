#pragma once
// Gauge: a value that goes up and down (bytes held, entries, breaker state), one series of a
// gauge family. For a value another layer already keeps in its own atomic, register a callback
// gauge instead (Registry::callback), read at scrape time.
// Use: auto& in_flight = registry.gauge("tiercache_loader_in_flight", "...").with();
//      in_flight.inc(); ...; in_flight.dec();
// Thread-safety: safe from any thread, lock-free (one atomic double; not sharded, as set() must
// be exact).

#include <atomic>

namespace tiercache::metrics {

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  void dec(double d = 1) noexcept { value_.fetch_sub(d, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace tiercache::metrics
