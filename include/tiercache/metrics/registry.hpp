#pragma once
// Registry: the process's metrics, by name. A family is a metric name with help text, a type and
// label names; its series (one per set of label values) are created on first use and live as long
// as the registry, so a caller resolves its series once and keeps the reference: the hot path is
// then the series' own lock-free update, never a lookup, never a Redis round trip.
// Use: auto& requests = registry.counter("tiercache_cache_requests_total", "Cache lookups.",
//                                        {"namespace", "tier", "result"});
//      auto& l1_hits = requests.with({"users", "l1", "hit"});  l1_hits.inc();
//      auto handle = registry.callback("tiercache_l1_bytes", "...", MetricType::gauge,
//                                      [&l1] { return double(l1.bytes()); });
//      std::string body = registry.scrape();  // Prometheus text 0.0.4
// Thread-safety: safe from any thread. with() takes the family's shared lock (a map lookup);
// registering takes the registry's lock; scrape() holds the registry's lock shared while it runs
// the callbacks, so a callback must not call into the registry.

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/metrics/counter.hpp"
#include "tiercache/metrics/gauge.hpp"
#include "tiercache/metrics/histogram.hpp"
#include "tiercache/metrics/snapshot.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tiercache::metrics {

namespace detail {
// Orders label-value lists lexicographically, and compares them with a list of views, so that a
// lookup by views allocates nothing.
struct LabelValuesLess {
  using is_transparent = void;
  bool operator()(std::span<const std::string> a, std::span<const std::string> b) const noexcept;
  bool operator()(std::span<const std::string> a,
                  std::span<const std::string_view> b) const noexcept;
  bool operator()(std::span<const std::string_view> a,
                  std::span<const std::string> b) const noexcept;
};
}  // namespace detail

// The series of one metric, by label values. T is Counter, Gauge or Histogram.
template <class T>
class Family {
 public:
  // The series for these label values, created at first use; valid as long as the registry.
  // REQUIRES: one value per label name (else std::invalid_argument).
  T& with(std::initializer_list<std::string_view> label_values = {});
  T& with(std::span<const std::string_view> label_values);

  // Counter and Histogram: every series back to zero. Gauges are levels, not reset.
  void reset() noexcept;

  const std::string& name() const noexcept { return name_; }
  std::span<const std::string> label_names() const noexcept { return label_names_; }

  // Its series, sorted by label values.
  FamilySnapshot snapshot() const;

  // For Registry only.
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds);

 private:
  friend class Registry;
  using Map = std::map<std::vector<std::string>, std::unique_ptr<T>, detail::LabelValuesLess>;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // Histogram only
  mutable std::shared_mutex mu_;
  Map series_ TIERCACHE_GUARDED_BY(mu_);
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;
using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Where a labelled callback reports its series at scrape time.
class CallbackSink {
 public:
  // REQUIRES: one value per label name of the callback (else std::invalid_argument).
  void add(std::initializer_list<std::string_view> label_values, double value);
  void add(std::span<const std::string_view> label_values, double value);

  // For Registry only.
  CallbackSink(std::size_t label_count, std::vector<SeriesSnapshot>& out)
      : label_count_(label_count), out_(out) {}

 private:
  std::size_t label_count_;
  std::vector<SeriesSnapshot>& out_;
};

class Registry;

// Keeps a callback registered; destroying it (or reset()) unregisters the callback, waiting for
// a scrape that is running it. REQUIRES: the registry outlives it.
class [[nodiscard]] CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(Registry* registry, std::string name)
      : registry_(registry), name_(std::move(name)) {}
  CallbackHandle(CallbackHandle&& other) noexcept;
  CallbackHandle& operator=(CallbackHandle&& other) noexcept;
  ~CallbackHandle() { reset(); }
  void reset() noexcept;

 private:
  Registry* registry_ = nullptr;
  std::string name_;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family of this name, created on first call. A later call with the same name must give
  // the same type, help, label names (and bounds); else std::invalid_argument, as for a name or
  // label name the format does not allow, a counter name not ending in _total, a label "le" on
  // a histogram, or a name that collides with a histogram's _bucket, _sum or _count.
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // REQUIRES: bounds finite, strictly increasing, non-empty.
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> bounds = default_buckets());

  // A counter or gauge read at scrape time from state another layer keeps (L1 bytes, breaker
  // state). The labelled form reports any number of series through the sink. The callback runs
  // on the scraping thread with the registry locked: it must be quick and must not call into the
  // registry. Counters read this way are not affected by reset().
  CallbackHandle callback(std::string name, std::string help, MetricType type,
                          std::function<double()> read);
  CallbackHandle callback(std::string name, std::string help, MetricType type,
                          std::vector<std::string> label_names,
                          std::function<void(CallbackSink&)> collect);

  // Every counter and histogram series back to zero (seed 001's reset_metrics).
  void reset() noexcept;

  // Every family with at least one series, sorted by name.
  std::vector<FamilySnapshot> snapshot() const;
  // snapshot() in the Prometheus text format 0.0.4 (text_format.hpp).
  std::string scrape() const;

 private:
  friend class CallbackHandle;
  struct CallbackFamily;
  using Entry = std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>,
                             std::unique_ptr<HistogramFamily>, std::unique_ptr<CallbackFamily>>;

  template <class T>
  Family<T>& add_family(MetricType type, std::string name, std::string help,
                        std::vector<std::string> label_names, std::vector<double> bounds);
  CallbackHandle add_callback(std::string name, std::string help, MetricType type,
                              std::vector<std::string> label_names, std::function<double()> read,
                              std::function<void(CallbackSink&)> collect);
  void check_new_name(const std::string& name, MetricType type) const TIERCACHE_REQUIRES(mu_);
  void remove_callback(const std::string& name) noexcept;

  mutable std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> families_ TIERCACHE_GUARDED_BY(mu_);
};

}  // namespace tiercache::metrics
