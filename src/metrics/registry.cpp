#include "tiercache/metrics/registry.hpp"

#include "tiercache/metrics/text_format.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace tiercache::metrics {

namespace detail {

namespace {
template <class A, class B>
bool less(std::span<A> a, std::span<B> b) noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](std::string_view x, std::string_view y) { return x < y; });
}
}  // namespace

bool LabelValuesLess::operator()(std::span<const std::string> a,
                                 std::span<const std::string> b) const noexcept {
  return less(a, b);
}
bool LabelValuesLess::operator()(std::span<const std::string> a,
                                 std::span<const std::string_view> b) const noexcept {
  return less(a, b);
}
bool LabelValuesLess::operator()(std::span<const std::string_view> a,
                                 std::span<const std::string> b) const noexcept {
  return less(a, b);
}

}  // namespace detail

namespace {

[[noreturn]] void fail(const std::string& name, std::string_view why) {
  throw std::invalid_argument("metric " + name + ": " + std::string(why));
}

bool is_name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0, colon)) return false;
  }
  return true;
}

void validate(const std::string& name, MetricType type, const std::vector<std::string>& labels,
              const std::vector<double>& bounds) {
  if (!valid_name(name, true)) fail(name, "the name is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  if (type == MetricType::counter && !name.ends_with("_total")) {
    fail(name, "a counter's name ends in _total");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& label = labels[i];
    if (!valid_name(label, false) || label.starts_with("__")) {
      fail(name, "label name '" + label + "' is not [a-zA-Z_][a-zA-Z0-9_]* or starts with __");
    }
    if (type == MetricType::histogram && label == "le") fail(name, "a histogram has no label le");
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      fail(name, "label name '" + label + "' appears twice");
    }
  }
  if (type == MetricType::histogram) {
    if (bounds.empty()) fail(name, "a histogram needs at least one bucket bound");
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
        fail(name, "bucket bounds must be finite and strictly increasing");
      }
    }
  }
}

template <class T>
constexpr MetricType type_of() {
  if constexpr (std::is_same_v<T, Counter>) {
    return MetricType::counter;
  } else if constexpr (std::is_same_v<T, Gauge>) {
    return MetricType::gauge;
  } else {
    return MetricType::histogram;
  }
}

}  // namespace

// ---- Family ----

template <class T>
Family<T>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

template <class T>
T& Family<T>::with(std::initializer_list<std::string_view> label_values) {
  return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}

template <class T>
T& Family<T>::with(std::span<const std::string_view> label_values) {
  if (label_values.size() != label_names_.size()) {
    fail(name_, "with() got " + std::to_string(label_values.size()) + " label values for " +
                    std::to_string(label_names_.size()) + " label names");
  }
  {
    std::shared_lock lock(mu_);
    if (const auto it = series_.find(label_values); it != series_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto it = series_.find(label_values);
  if (it == series_.end()) {
    std::unique_ptr<T> series;
    if constexpr (std::is_same_v<T, Histogram>) {
      series = std::make_unique<Histogram>(bounds_);
    } else {
      series = std::make_unique<T>();
    }
    it = series_
             .emplace(std::vector<std::string>(label_values.begin(), label_values.end()),
                      std::move(series))
             .first;
  }
  return *it->second;
}

template <class T>
void Family<T>::reset() noexcept {
  if constexpr (!std::is_same_v<T, Gauge>) {
    std::shared_lock lock(mu_);
    for (auto& [labels, series] : series_) series->reset();
  }
}

template <class T>
FamilySnapshot Family<T>::snapshot() const {
  FamilySnapshot out{name_, help_, type_of<T>(), label_names_, bounds_, {}};
  std::shared_lock lock(mu_);
  out.series.reserve(series_.size());
  for (const auto& [labels, series] : series_) {
    SeriesSnapshot s;
    s.label_values = labels;
    if constexpr (std::is_same_v<T, Counter>) {
      s.value = static_cast<double>(series->value());
    } else if constexpr (std::is_same_v<T, Gauge>) {
      s.value = series->value();
    } else {
      auto h = series->snapshot();
      s.cumulative_counts = std::move(h.counts);
      for (std::size_t i = 1; i < s.cumulative_counts.size(); ++i) {
        s.cumulative_counts[i] += s.cumulative_counts[i - 1];
      }
      s.sum = h.sum;
      s.count = h.count;
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Callbacks ----

void CallbackSink::add(std::initializer_list<std::string_view> label_values, double value) {
  add(std::span<const std::string_view>(label_values.begin(), label_values.size()), value);
}

void CallbackSink::add(std::span<const std::string_view> label_values, double value) {
  if (label_values.size() != label_count_) {
    throw std::invalid_argument("metrics callback: wrong number of label values");
  }
  SeriesSnapshot s;
  s.label_values.assign(label_values.begin(), label_values.end());
  s.value = value;
  out_.push_back(std::move(s));
}

struct Registry::CallbackFamily {
  std::string help;
  MetricType type;
  std::vector<std::string> label_names;
  std::function<double()> read;                // unlabelled form
  std::function<void(CallbackSink&)> collect;  // labelled form
};

CallbackHandle::CallbackHandle(CallbackHandle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), name_(std::move(other.name_)) {}

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    name_ = std::move(other.name_);
  }
  return *this;
}

void CallbackHandle::reset() noexcept {
  if (registry_ != nullptr) std::exchange(registry_, nullptr)->remove_callback(name_);
}

// ---- Registry ----

Registry::Registry() = default;
Registry::~Registry() = default;

void Registry::check_new_name(const std::string& name, MetricType type) const {
  static constexpr std::string_view kSuffixes[] = {"_bucket", "_sum", "_count"};
  for (const auto suffix : kSuffixes) {
    if (type == MetricType::histogram && families_.contains(name + std::string(suffix))) {
      fail(name, "collides with an existing metric " + name + std::string(suffix));
    }
    if (name.ends_with(suffix)) {
      const auto it = families_.find(std::string_view(name).substr(0, name.size() - suffix.size()));
      if (it != families_.end() && it->second.index() == 2) {
        fail(name, "collides with the series of histogram " + it->first);
      }
    }
  }
}

template <class T>
Family<T>& Registry::add_family(MetricType type, std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds) {
  validate(name, type, label_names, bounds);
  std::unique_lock lock(mu_);
  if (const auto it = families_.find(name); it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<Family<T>>>(&it->second);
    if (existing == nullptr || (*existing)->help_ != help ||
        (*existing)->label_names_ != label_names || (*existing)->bounds_ != bounds) {
      fail(name, "registered again with a different type, help, labels or buckets");
    }
    return **existing;
  }
  check_new_name(name, type);
  auto family =
      std::make_unique<Family<T>>(name, std::move(help), std::move(label_names), std::move(bounds));
  auto& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  return add_family<Counter>(MetricType::counter, std::move(name), std::move(help),
                             std::move(label_names), {});
}

GaugeFamily& Registry::gauge(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  return add_family<Gauge>(MetricType::gauge, std::move(name), std::move(help),
                           std::move(label_names), {});
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  return add_family<Histogram>(MetricType::histogram, std::move(name), std::move(help),
                               std::move(label_names), std::move(bounds));
}

CallbackHandle Registry::callback(std::string name, std::string help, MetricType type,
                                  std::function<double()> read) {
  return add_callback(std::move(name), std::move(help), type, {}, std::move(read), nullptr);
}

CallbackHandle Registry::callback(std::string name, std::string help, MetricType type,
                                  std::vector<std::string> label_names,
                                  std::function<void(CallbackSink&)> collect) {
  return add_callback(std::move(name), std::move(help), type, std::move(label_names), nullptr,
                      std::move(collect));
}

CallbackHandle Registry::add_callback(std::string name, std::string help, MetricType type,
                                      std::vector<std::string> label_names,
                                      std::function<double()> read,
                                      std::function<void(CallbackSink&)> collect) {
  if (type == MetricType::histogram) fail(name, "a callback reports a counter or a gauge");
  if (!read && !collect) fail(name, "the callback is empty");
  validate(name, type, label_names, {});
  std::unique_lock lock(mu_);
  if (families_.contains(name)) fail(name, "is already registered");
  check_new_name(name, type);
  families_.emplace(name, std::make_unique<CallbackFamily>(
                              CallbackFamily{std::move(help), type, std::move(label_names),
                                             std::move(read), std::move(collect)}));
  return CallbackHandle(this, std::move(name));
}

void Registry::remove_callback(const std::string& name) noexcept {
  std::unique_lock lock(mu_);
  const auto it = families_.find(name);
  if (it != families_.end() && it->second.index() == 3) families_.erase(it);
}

void Registry::reset() noexcept {
  std::shared_lock lock(mu_);
  for (auto& [name, entry] : families_) {
    if (auto* c = std::get_if<std::unique_ptr<CounterFamily>>(&entry)) (*c)->reset();
    if (auto* h = std::get_if<std::unique_ptr<HistogramFamily>>(&entry)) (*h)->reset();
  }
}

std::vector<FamilySnapshot> Registry::snapshot() const {
  std::vector<FamilySnapshot> out;
  std::shared_lock lock(mu_);
  out.reserve(families_.size());
  for (const auto& [name, entry] : families_) {
    if (entry.index() != 3) {
      std::visit(
          [&](const auto& family) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(*family)>, CallbackFamily>) {
              out.push_back(family->snapshot());
            }
          },
          entry);
    } else {
      const auto& cb = *std::get<3>(entry);
      FamilySnapshot f{name, cb.help, cb.type, cb.label_names, {}, {}};
      if (cb.read) {
        f.series.push_back(SeriesSnapshot{.value = cb.read()});
      } else if (cb.collect) {
        CallbackSink sink(cb.label_names.size(), f.series);
        cb.collect(sink);
        std::stable_sort(f.series.begin(), f.series.end(), [](const auto& a, const auto& b) {
          return detail::LabelValuesLess{}(a.label_values, b.label_values);
        });
        // One sample per label set: the first reported wins.
        f.series.erase(std::unique(f.series.begin(), f.series.end(),
                                   [](const auto& a, const auto& b) {
                                     return a.label_values == b.label_values;
                                   }),
                       f.series.end());
      }
      out.push_back(std::move(f));
    }
    if (out.back().series.empty()) out.pop_back();
  }
  return out;
}

std::string Registry::scrape() const {
  const auto families = snapshot();
  return to_text(families);
}

}  // namespace tiercache::metrics
