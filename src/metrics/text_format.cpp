#include "tiercache/metrics/text_format.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace tiercache::metrics {

std::string_view to_string(MetricType type) noexcept {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

void append_value(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    std::array<char, 32> buf;
    std::to_chars_result r;
    // Integers (every counter) print as integers: 1000000, not 1e+06.
    if (std::abs(v) < 9007199254740992.0 && v == std::trunc(v)) {
      r = std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<std::int64_t>(v));
    } else {
      r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    }
    out.append(buf.data(), r.ptr);
  }
}

void append_label_value(std::string_view v, std::string& out) {
  for (const char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void append_help(std::string_view v, std::string& out) {
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

namespace {

// name{a="x",b="y"[,le="0.5"]} value\n
void append_sample(std::string_view name, std::string_view suffix, const FamilySnapshot& family,
                   const SeriesSnapshot& series, const std::string* le, double value,
                   std::string& out) {
  out += name;
  out += suffix;
  if (!family.label_names.empty() || le != nullptr) {
    out += '{';
    for (std::size_t i = 0; i < family.label_names.size(); ++i) {
      if (i > 0) out += ',';
      out += family.label_names[i];
      out += "=\"";
      append_label_value(series.label_values[i], out);
      out += '"';
    }
    if (le != nullptr) {
      if (!family.label_names.empty()) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_value(value, out);
  out += '\n';
}

}  // namespace

void write_text(std::span<const FamilySnapshot> families, std::string& out) {
  std::vector<std::string> les;
  for (const auto& family : families) {
    if (family.series.empty()) continue;
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_help(family.help, out);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += to_string(family.type);
    out += '\n';
    if (family.type != MetricType::histogram) {
      for (const auto& series : family.series) {
        append_sample(family.name, "", family, series, nullptr, series.value, out);
      }
      continue;
    }
    les.clear();
    for (const double b : family.bounds) {
      les.emplace_back();
      append_value(b, les.back());
    }
    les.emplace_back("+Inf");
    for (const auto& series : family.series) {
      for (std::size_t i = 0; i < les.size(); ++i) {
        append_sample(family.name, "_bucket", family, series, &les[i],
                      static_cast<double>(series.cumulative_counts[i]), out);
      }
      append_sample(family.name, "_sum", family, series, nullptr, series.sum, out);
      append_sample(family.name, "_count", family, series, nullptr,
                    static_cast<double>(series.count), out);
    }
  }
}

std::string to_text(std::span<const FamilySnapshot> families) {
  std::string out;
  write_text(families, out);
  return out;
}

}  // namespace tiercache::metrics
