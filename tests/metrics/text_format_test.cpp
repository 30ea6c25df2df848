#include "tiercache/metrics/text_format.hpp"

#include "tiercache/metrics/registry.hpp"

#include "tests/metrics/text_parser.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace tiercache::metrics {
namespace {

using testing::parse_text;
using testing::TextParseError;

std::string value_text(double v) {
  std::string out;
  append_value(v, out);
  return out;
}

TEST(TextFormatTest, WritesTheExactExposition) {
  Registry registry;
  auto& requests = registry.counter("tiercache_cache_requests_total", "Cache lookups.",
                                    {"namespace", "tier", "result"});
  requests.with({"users", "l1", "hit"}).inc(3);
  requests.with({"users", "l1", "miss"}).inc();
  registry.gauge("tiercache_l1_entries", "Entries in L1.").with().set(42);
  auto& latency =
      registry.histogram("tiercache_operation_duration_seconds", "Latency.", {"op"}, {0.001, 0.01});
  latency.with({"get"}).observe(0.0005);
  latency.with({"get"}).observe(0.001);  // le is inclusive
  latency.with({"get"}).observe(0.5);

  EXPECT_EQ(registry.scrape(),
            "# HELP tiercache_cache_requests_total Cache lookups.\n"
            "# TYPE tiercache_cache_requests_total counter\n"
            "tiercache_cache_requests_total{namespace=\"users\",tier=\"l1\",result=\"hit\"} 3\n"
            "tiercache_cache_requests_total{namespace=\"users\",tier=\"l1\",result=\"miss\"} 1\n"
            "# HELP tiercache_l1_entries Entries in L1.\n"
            "# TYPE tiercache_l1_entries gauge\n"
            "tiercache_l1_entries 42\n"
            "# HELP tiercache_operation_duration_seconds Latency.\n"
            "# TYPE tiercache_operation_duration_seconds histogram\n"
            "tiercache_operation_duration_seconds_bucket{op=\"get\",le=\"0.001\"} 2\n"
            "tiercache_operation_duration_seconds_bucket{op=\"get\",le=\"0.01\"} 2\n"
            "tiercache_operation_duration_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"
            "tiercache_operation_duration_seconds_sum{op=\"get\"} 0.5015\n"
            "tiercache_operation_duration_seconds_count{op=\"get\"} 3\n");
}

TEST(TextFormatTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.counter("x_total", "a \\ back\nslash \"quoted\"", {"k"})
      .with({"say \"hi\"\\n\nnext"})
      .inc();
  EXPECT_EQ(registry.scrape(),
            "# HELP x_total a \\\\ back\\nslash \"quoted\"\n"
            "# TYPE x_total counter\n"
            "x_total{k=\"say \\\"hi\\\"\\\\n\\nnext\"} 1\n");
}

TEST(TextFormatTest, WritesValuesAsThePrometheusParserReadsThem) {
  EXPECT_EQ(value_text(0), "0");
  EXPECT_EQ(value_text(1e6), "1000000");
  EXPECT_EQ(value_text(-3), "-3");
  EXPECT_EQ(value_text(0.25), "0.25");
  EXPECT_EQ(value_text(5e-05), "5e-05");
  EXPECT_EQ(value_text(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(value_text(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(value_text(std::nan("")), "NaN");
  EXPECT_EQ(value_text(1e300), "1e+300");
}

TEST(TextFormatTest, OmitsFamiliesWithoutSeries) {
  Registry registry;
  registry.counter("unused_total", "never touched", {"a"});
  EXPECT_EQ(registry.scrape(), "");
}

// Every line of a varied exposition passes the strict parser, and every value comes back.
TEST(TextFormatTest, RoundTripsThroughAStrictParser) {
  Registry registry;
  auto& c = registry.counter("rt_requests_total", "Requests\nby kind.", {"kind", "tier"});
  const std::vector<std::string> kinds = {"plain",     "q\"uote", "back\\slash",
                                          "new\nline", "",        "ünï©ødé"};
  std::uint64_t n = 1;
  for (const auto& kind : kinds) {
    c.with({kind, "l1"}).inc(n);
    c.with({kind, "l2"}).inc(n * 1000);
    ++n;
  }
  auto& g = registry.gauge("rt_level", "A level.", {"shard"});
  g.with({"0"}).set(-2.5);
  g.with({"1"}).set(1e-9);
  auto& h = registry.histogram("rt_size_bytes", "Sizes.", {"ns"}, exponential_buckets(64, 4, 6));
  for (int i = 0; i < 1000; ++i) h.with({i % 2 == 0 ? "even" : "odd"}).observe(i * 37 % 70000);
  auto handle = registry.callback("rt_breaker_state", "Breaker state.", MetricType::gauge,
                                  {"endpoint"}, [](CallbackSink& sink) {
                                    sink.add({"redis-b"}, 2);
                                    sink.add({"redis-a"}, 0);
                                  });

  const auto snapshot = registry.snapshot();
  const auto text = to_text(snapshot);
  std::vector<testing::ParsedFamily> parsed;
  ASSERT_NO_THROW(parsed = parse_text(text)) << text;
  ASSERT_EQ(parsed.size(), snapshot.size());
  for (std::size_t f = 0; f < parsed.size(); ++f) {
    const auto& want = snapshot[f];
    const auto& got = parsed[f];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.help, want.help);
    EXPECT_EQ(got.type, to_string(want.type));
    std::size_t k = 0;
    for (const auto& series : want.series) {
      const auto check_labels = [&](const testing::ParsedSample& s) {
        for (std::size_t l = 0; l < want.label_names.size(); ++l) {
          ASSERT_NE(s.label(want.label_names[l]), nullptr);
          EXPECT_EQ(*s.label(want.label_names[l]), series.label_values[l]);
        }
      };
      if (want.type != MetricType::histogram) {
        ASSERT_LT(k, got.samples.size());
        check_labels(got.samples[k]);
        EXPECT_EQ(got.samples[k++].value, series.value);
        continue;
      }
      for (std::size_t b = 0; b <= want.bounds.size(); ++b) {
        const auto& s = got.samples[k++];
        check_labels(s);
        EXPECT_EQ(s.value, static_cast<double>(series.cumulative_counts[b]));
        if (b < want.bounds.size()) {
          EXPECT_EQ(std::stod(*s.label("le")), want.bounds[b]);
        }
      }
      EXPECT_EQ(got.samples[k++].value, series.sum);
      EXPECT_EQ(got.samples[k++].value, static_cast<double>(series.count));
    }
    EXPECT_EQ(k, got.samples.size());
  }
  // The callback's series come out sorted by label value.
  const auto& breaker = parsed[0];
  ASSERT_EQ(breaker.name, "rt_breaker_state");
  EXPECT_EQ(*breaker.samples[0].label("endpoint"), "redis-a");
}

TEST(TextFormatTest, StrictParserRejectsMalformedExpositions) {
  const std::string head = "# HELP m_total h\n# TYPE m_total counter\n";
  EXPECT_NO_THROW(parse_text(head + "m_total{a=\"x\"} 1\n"));
  EXPECT_THROW(parse_text(head + "m_total{a=\"x\"} 1"), TextParseError);            // no final \n
  EXPECT_THROW(parse_text(head + "m_total{a=\"x\"\"} 1\n"), TextParseError);        // stray quote
  EXPECT_THROW(parse_text(head + "m_total{a=\"\\x\"} 1\n"), TextParseError);        // bad escape
  EXPECT_THROW(parse_text(head + "m_total{a=\"x\",a=\"y\"} 1\n"), TextParseError);  // label twice
  EXPECT_THROW(parse_text(head + "m_total 1\nm_total 2\n"), TextParseError);        // duplicate
  EXPECT_THROW(parse_text(head + "m_total  1\n"), TextParseError);                  // two spaces
  EXPECT_THROW(parse_text(head + "m_total 1e\n"), TextParseError);                  // bad value
  EXPECT_THROW(parse_text(head + "m_total -1\n"), TextParseError);   // negative counter
  EXPECT_THROW(parse_text(head + "other 1\n"), TextParseError);      // wrong family
  EXPECT_THROW(parse_text("m_total 1\n"), TextParseError);           // no TYPE
  EXPECT_THROW(parse_text(head + "\nm_total 1\n"), TextParseError);  // blank line
  const std::string hist = "# HELP h x\n# TYPE h histogram\n";
  EXPECT_NO_THROW(
      parse_text(hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"));
  EXPECT_THROW(parse_text(hist + "h_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n"),
               TextParseError);  // no +Inf
  EXPECT_THROW(
      parse_text(hist + "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"),
      TextParseError);  // not cumulative
  EXPECT_THROW(
      parse_text(hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 3\n"),
      TextParseError);                                       // +Inf != _count
  EXPECT_THROW(parse_text(hist + "h 1\n"), TextParseError);  // a bare histogram sample
}

}  // namespace
}  // namespace tiercache::metrics
