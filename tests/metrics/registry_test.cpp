#include "tiercache/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::metrics {
namespace {

const SeriesSnapshot* find(const std::vector<FamilySnapshot>& families, std::string_view name,
                           std::vector<std::string> labels) {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& s : f.series) {
      if (s.label_values == labels) return &s;
    }
  }
  return nullptr;
}

TEST(RegistryTest, CountsAScriptedSequenceExactly) {
  Registry registry;
  auto& requests = registry.counter("tiercache_cache_requests_total", "Cache lookups.",
                                    {"namespace", "tier", "result"});
  auto& hit = requests.with({"users", "l1", "hit"});
  auto& miss = requests.with({"users", "l1", "miss"});
  const std::string script = "hhmhhhmmhx";
  for (const char c : script) {
    if (c == 'h') hit.inc();
    if (c == 'm') miss.inc();
    if (c == 'x') requests.with({"users", "l2", "error"}).inc();
  }
  const auto snap = registry.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  ASSERT_EQ(snap[0].series.size(), 3u);
  EXPECT_EQ(find(snap, "tiercache_cache_requests_total", {"users", "l1", "hit"})->value, 6);
  EXPECT_EQ(find(snap, "tiercache_cache_requests_total", {"users", "l1", "miss"})->value, 3);
  EXPECT_EQ(find(snap, "tiercache_cache_requests_total", {"users", "l2", "error"})->value, 1);
}

TEST(RegistryTest, WithReturnsTheSameSeriesForTheSameLabels) {
  Registry registry;
  auto& family = registry.counter("a_total", "help", {"x"});
  EXPECT_EQ(&family.with({"1"}), &family.with({"1"}));
  EXPECT_NE(&family.with({"1"}), &family.with({"2"}));
  const std::vector<std::string_view> views = {"1"};
  EXPECT_EQ(&family.with(views), &family.with({"1"}));
}

TEST(RegistryTest, RegisteringAgainReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.counter("a_total", "help", {"x"});
  EXPECT_EQ(&a, &registry.counter("a_total", "help", {"x"}));
  EXPECT_THROW(registry.counter("a_total", "other help", {"x"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("a_total", "help", {"y"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("a_total", "help", {"x"}), std::invalid_argument);
  auto& h = registry.histogram("h_seconds", "help", {}, {1, 2});
  EXPECT_EQ(&h, &registry.histogram("h_seconds", "help", {}, {1, 2}));
  EXPECT_THROW(registry.histogram("h_seconds", "help", {}, {1, 3}), std::invalid_argument);
}

TEST(RegistryTest, RejectsWhatTheFormatCannotCarry) {
  Registry registry;
  EXPECT_THROW(registry.gauge("", "h"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("1abc", "h"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("a-b", "h"), std::invalid_argument);
  EXPECT_NO_THROW(registry.gauge("ns:a_b", "h"));
  EXPECT_THROW(registry.counter("requests", "h"), std::invalid_argument);  // no _total
  EXPECT_THROW(registry.gauge("g1", "h", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("g2", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("g3", "h", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h1", "h", {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "h", {}, {}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h3", "h", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h4", "h", {}, {1, 1}), std::invalid_argument);
  auto& g = registry.gauge("g4", "h", {"a", "b"});
  EXPECT_THROW(g.with({"only one"}), std::invalid_argument);
}

TEST(RegistryTest, RejectsNamesThatCollideWithAHistogramsSeries) {
  Registry registry;
  registry.histogram("lat_seconds", "h");
  EXPECT_THROW(registry.gauge("lat_seconds_count", "h"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("lat_seconds_sum", "h"), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("lat_seconds_bucket_total", "h"));  // not a series name
}

TEST(RegistryTest, RejectsAHistogramWhoseSeriesWouldCollide) {
  Registry registry;
  registry.gauge("size_bytes_sum", "h");
  EXPECT_THROW(registry.histogram("size_bytes", "h"), std::invalid_argument);
}

TEST(RegistryTest, ResetZeroesCountersAndHistogramsButNotGauges) {
  Registry registry;
  auto& c = registry.counter("c_total", "h", {"k"});
  c.with({"a"}).inc(5);
  c.with({"b"}).inc(7);
  auto& g = registry.gauge("g", "h").with();
  g.set(3);
  auto& h = registry.histogram("h", "h", {}, {1}).with();
  h.observe(0.5);

  c.reset();  // one family
  EXPECT_EQ(c.with({"a"}).value(), 0u);
  EXPECT_EQ(c.with({"b"}).value(), 0u);
  EXPECT_EQ(h.snapshot().count, 1u);

  c.with({"a"}).inc();
  registry.reset();  // all
  EXPECT_EQ(c.with({"a"}).value(), 0u);
  EXPECT_EQ(h.snapshot().count, 0u);
  EXPECT_EQ(g.value(), 3);
}

TEST(RegistryTest, ReadsCallbacksAtScrapeTimeUntilTheHandleGoes) {
  Registry registry;
  std::atomic<std::uint64_t> l1_bytes{100};
  {
    auto handle = registry.callback("tiercache_l1_bytes", "Bytes in L1.", MetricType::gauge,
                                    [&l1_bytes] { return static_cast<double>(l1_bytes.load()); });
    EXPECT_EQ(find(registry.snapshot(), "tiercache_l1_bytes", {})->value, 100);
    l1_bytes = 250;
    EXPECT_EQ(find(registry.snapshot(), "tiercache_l1_bytes", {})->value, 250);
    EXPECT_THROW(
        (void)registry.callback("tiercache_l1_bytes", "x", MetricType::gauge, [] { return 0.0; }),
        std::invalid_argument);
    // Moving the handle keeps the registration.
    CallbackHandle moved = std::move(handle);
    EXPECT_NE(find(registry.snapshot(), "tiercache_l1_bytes", {}), nullptr);
  }
  EXPECT_EQ(find(registry.snapshot(), "tiercache_l1_bytes", {}), nullptr);
  // The name is free again.
  auto again = registry.callback("tiercache_l1_bytes", "Bytes in L1.", MetricType::gauge,
                                 [] { return 1.0; });
  EXPECT_EQ(find(registry.snapshot(), "tiercache_l1_bytes", {})->value, 1);
}

TEST(RegistryTest, LabelledCallbacksReportSortedUniqueSeries) {
  Registry registry;
  auto handle = registry.callback("tiercache_breaker_transitions_total", "h", MetricType::counter,
                                  {"endpoint", "to"}, [](CallbackSink& sink) {
                                    sink.add({"b", "open"}, 2);
                                    sink.add({"a", "open"}, 1);
                                    sink.add({"b", "open"}, 9);  // a duplicate: the first wins
                                  });
  const auto snap = registry.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  ASSERT_EQ(snap[0].series.size(), 2u);
  EXPECT_EQ(snap[0].series[0].label_values, (std::vector<std::string>{"a", "open"}));
  EXPECT_EQ(snap[0].series[1].value, 2);
  auto bad = registry.callback("bad", "h", MetricType::gauge, {"x"}, [](CallbackSink& sink) {
    sink.add({"1", "2"}, 0);
  });
  EXPECT_THROW(registry.snapshot(), std::invalid_argument);
}

// Threads create series, count and scrape at once; every increment is in the final count.
TEST(RegistryTest, CountsBalanceWhileThreadsRegisterAndScrape) {
  Registry registry;
  auto& family = registry.counter("c_total", "h", {"ns"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      const auto text = registry.scrape();
      EXPECT_TRUE(text.empty() || text.ends_with("\n"));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&family, t] {
      for (int i = 0; i < kPerThread; ++i) family.with({std::to_string((t + i) % 8)}).inc();
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();
  std::uint64_t total = 0;
  const auto snap = registry.snapshot();
  for (const auto& s : snap[0].series) total += static_cast<std::uint64_t>(s.value);
  EXPECT_EQ(total, std::uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(registry.snapshot()[0].series.size(), 8u);
}

}  // namespace
}  // namespace tiercache::metrics
