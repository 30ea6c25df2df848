#pragma once
// A strict parser of the Prometheus text format 0.0.4 for tests: every line must match the
// grammar of https://prometheus.io/docs/instrumenting/exposition_formats/ (with single spaces,
// no blank lines and no free comments, which our writer never emits), and the exposition must
// be consistent: HELP then TYPE once per family before its samples, a family's samples together,
// no duplicate series, histogram buckets sorted with le="+Inf" last, cumulative, and equal to
// _count. parse_text() returns what it read so that tests can check the values round-trip.
// Thread-safety: pure functions.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::metrics::testing {

struct ParsedSample {
  std::string name;  // with its suffix (_bucket, _sum, _count)
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped, in text order
  double value = 0;

  const std::string* label(std::string_view n) const {
    for (const auto& [k, v] : labels) {
      if (k == n) return &v;
    }
    return nullptr;
  }
};

struct ParsedFamily {
  std::string name;
  std::string help;  // unescaped
  std::string type;
  std::vector<ParsedSample> samples;
};

class TextParseError : public std::runtime_error {
 public:
  TextParseError(std::size_t line, const std::string& what)
      : std::runtime_error("line " + std::to_string(line) + ": " + what) {}
};

namespace parser_detail {

inline bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

// Reads [a-zA-Z_:][a-zA-Z0-9_:]* (or the label form without ':') from the front of s.
inline std::string take_name(std::string_view& s, bool colon) {
  std::size_t n = 0;
  while (n < s.size() && name_char(s[n], n == 0, colon)) ++n;
  std::string out(s.substr(0, n));
  s.remove_prefix(n);
  return out;
}

// Go's ParseFloat subset the format uses; the whole of s must be the number.
inline bool parse_value(std::string_view s, double& v) {
  if (s == "+Inf" || s == "Inf") return v = HUGE_VAL, true;
  if (s == "-Inf") return v = -HUGE_VAL, true;
  if (s == "NaN") return v = std::nan(""), true;
  if (s.empty() || s.front() == '+') return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

inline std::string unescape(std::string_view s, bool quotes, std::size_t line) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) throw TextParseError(line, "a lone backslash");
    if (s[i] == '\\') {
      out += '\\';
    } else if (s[i] == 'n') {
      out += '\n';
    } else if (s[i] == '"' && quotes) {
      out += '"';
    } else {
      throw TextParseError(line, std::string("an unknown escape \\") + s[i]);
    }
  }
  return out;
}

}  // namespace parser_detail

inline std::vector<ParsedFamily> parse_text(std::string_view text) {
  using namespace parser_detail;
  std::vector<ParsedFamily> families;
  std::set<std::string> seen_families;
  std::set<std::string> seen_series;
  if (!text.empty() && text.back() != '\n') throw TextParseError(0, "no newline at the end");
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (line.empty()) throw TextParseError(line_no, "a blank line");
    if (line.starts_with("# HELP ")) {
      line.remove_prefix(7);
      const auto name = take_name(line, true);
      if (name.empty() || !line.starts_with(' ')) throw TextParseError(line_no, "bad HELP");
      if (!seen_families.insert(name).second) throw TextParseError(line_no, "HELP twice: " + name);
      families.push_back({name, unescape(line.substr(1), false, line_no), "", {}});
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      line.remove_prefix(7);
      const auto name = take_name(line, true);
      if (families.empty() || families.back().name != name || !families.back().type.empty()) {
        throw TextParseError(line_no, "TYPE not right after its HELP: " + name);
      }
      static const std::set<std::string_view> kTypes = {"counter", "gauge", "histogram", "summary",
                                                        "untyped"};
      if (!line.starts_with(' ') || !kTypes.contains(line.substr(1))) {
        throw TextParseError(line_no, "bad TYPE");
      }
      families.back().type = std::string(line.substr(1));
      continue;
    }
    if (line.starts_with('#')) throw TextParseError(line_no, "a comment we never write");

    ParsedSample sample;
    sample.name = take_name(line, true);
    if (sample.name.empty()) throw TextParseError(line_no, "no metric name");
    std::set<std::string> label_names;
    if (line.starts_with('{')) {
      line.remove_prefix(1);
      while (!line.starts_with('}')) {
        auto label = take_name(line, false);
        if (label.empty() || !line.starts_with("=\"")) throw TextParseError(line_no, "bad label");
        line.remove_prefix(2);
        std::size_t end = 0;
        while (end < line.size() && line[end] != '"')
          end += line[end] == '\\' ? std::size_t{2} : std::size_t{1};
        if (end >= line.size()) throw TextParseError(line_no, "unterminated label value");
        if (!label_names.insert(label).second) throw TextParseError(line_no, "label twice");
        sample.labels.emplace_back(std::move(label), unescape(line.substr(0, end), true, line_no));
        line.remove_prefix(end + 1);
        if (line.starts_with(',')) {
          line.remove_prefix(1);
        } else if (!line.starts_with('}')) {
          throw TextParseError(line_no, "expected , or } after a label");
        }
      }
      line.remove_prefix(1);
    }
    if (!line.starts_with(' ')) throw TextParseError(line_no, "expected one space before value");
    line.remove_prefix(1);
    const auto space = line.find(' ');
    if (space != std::string_view::npos) {  // a timestamp: an int64 in ms
      std::int64_t ts = 0;
      const auto t = line.substr(space + 1);
      const auto r = std::from_chars(t.data(), t.data() + t.size(), ts);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size()) {
        throw TextParseError(line_no, "bad timestamp");
      }
      line = line.substr(0, space);
    }
    if (!parse_value(line, sample.value)) {
      throw TextParseError(line_no, "bad value '" + std::string(line) + "'");
    }

    if (families.empty() || families.back().type.empty()) {
      throw TextParseError(line_no, "a sample before its family's HELP and TYPE");
    }
    auto& family = families.back();
    const bool hist = family.type == "histogram";
    const bool ok_name =
        sample.name == family.name ||
        (hist && (sample.name == family.name + "_bucket" || sample.name == family.name + "_sum" ||
                  sample.name == family.name + "_count"));
    if (!ok_name || (hist && sample.name == family.name)) {
      throw TextParseError(line_no, "sample " + sample.name + " outside its family");
    }
    if ((sample.name == family.name + "_bucket") != (sample.label("le") != nullptr)) {
      throw TextParseError(line_no, "le on a non-bucket or a bucket without le");
    }
    if (family.type == "counter" && !(sample.value >= 0)) {
      throw TextParseError(line_no, "a counter below zero or NaN");
    }
    auto key = sample.labels;
    std::sort(key.begin(), key.end());
    std::string series = sample.name;
    for (const auto& [k, v] : key) series += '\0' + k + '\0' + v;
    if (!seen_series.insert(series).second) throw TextParseError(line_no, "duplicate series");
    family.samples.push_back(std::move(sample));
  }

  // Histograms: per label set, buckets by increasing le ending at +Inf, cumulative, == _count.
  for (const auto& family : families) {
    if (family.samples.empty()) throw TextParseError(0, "family without samples: " + family.name);
    if (family.type != "histogram") continue;
    struct Series {
      std::vector<std::pair<double, double>> buckets;
      bool has_sum = false, has_count = false;
      double count = 0;
    };
    std::map<std::vector<std::pair<std::string, std::string>>, Series> by_labels;
    for (const auto& s : family.samples) {
      std::vector<std::pair<std::string, std::string>> labels;
      for (const auto& l : s.labels) {
        if (l.first != "le") labels.push_back(l);
      }
      auto& series = by_labels[labels];
      if (s.name.ends_with("_bucket")) {
        double le = 0;
        if (!parse_value(*s.label("le"), le)) throw TextParseError(0, "bad le " + *s.label("le"));
        series.buckets.emplace_back(le, s.value);
      } else if (s.name.ends_with("_sum")) {
        series.has_sum = true;
      } else {
        series.has_count = true;
        series.count = s.value;
      }
    }
    for (const auto& [labels, s] : by_labels) {
      if (s.buckets.empty() || !std::isinf(s.buckets.back().first) || !s.has_sum || !s.has_count) {
        throw TextParseError(0, family.name + ": a series without +Inf, _sum or _count");
      }
      for (std::size_t i = 1; i < s.buckets.size(); ++i) {
        if (!(s.buckets[i - 1].first < s.buckets[i].first) ||
            s.buckets[i - 1].second > s.buckets[i].second) {
          throw TextParseError(0, family.name + ": buckets not increasing or not cumulative");
        }
      }
      if (s.buckets.back().second != s.count) {
        throw TextParseError(0, family.name + ": +Inf bucket differs from _count");
      }
    }
  }
  return families;
}

}  // namespace tiercache::metrics::testing
