#pragma once
// MetricType, FamilySnapshot: the values of a registry at one scrape, as plain data, for the
// Prometheus text writer (text_format.hpp), the dashboard and tests.
// Use: for (const auto& family : registry.snapshot()) ...
// Thread-safety: values; not shared.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::metrics {

enum class MetricType : std::uint8_t { counter, gauge, histogram };

// "counter", "gauge" or "histogram", as the TYPE line spells it.
std::string_view to_string(MetricType type) noexcept;

struct SeriesSnapshot {
  std::vector<std::string> label_values;  // in the order of FamilySnapshot::label_names
  double value = 0;                       // counter and gauge
  // Histogram: cumulative counts, one per bound and a last one for +Inf (== count).
  std::vector<std::uint64_t> cumulative_counts;
  double sum = 0;
  std::uint64_t count = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;          // histogram only
  std::vector<SeriesSnapshot> series;  // sorted by label values
};

}  // namespace tiercache::metrics
