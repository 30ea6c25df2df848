#include "tiercache/metrics/slow_log.hpp"

#include "tiercache/base/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::metrics {
namespace {

using namespace std::chrono_literals;

TEST(SlowLogTest, RecordsOnlyOperationsAtOrOverTheThreshold) {
  ManualClock clock;
  SlowLog log(SlowLogOptions{.capacity = 4, .threshold = 10ms}, clock);
  log.record("get", "fast", 9ms);
  EXPECT_TRUE(log.snapshot().empty());
  EXPECT_EQ(log.recorded(), 0u);
  clock.advance(1s);
  log.record("get", "users:42", 10ms, "l2");
  const auto entries = log.snapshot();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, 1u);
  EXPECT_EQ(entries[0].operation, "get");
  EXPECT_EQ(entries[0].key, "users:42");
  EXPECT_FALSE(entries[0].key_truncated);
  EXPECT_EQ(entries[0].duration, 10ms);
  EXPECT_EQ(entries[0].detail, "l2");
  EXPECT_EQ(entries[0].time, clock.wall_now());
}

TEST(SlowLogTest, KeepsTheLastEntriesNewestFirst) {
  ManualClock clock;
  SlowLog log(SlowLogOptions{.capacity = 3, .threshold = 1ms}, clock);
  for (int i = 1; i <= 5; ++i) log.record("op", "k" + std::to_string(i), 2ms);
  const auto entries = log.snapshot();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "k5");
  EXPECT_EQ(entries[1].key, "k4");
  EXPECT_EQ(entries[2].key, "k3");
  EXPECT_EQ(entries[2].id, 3u);
  EXPECT_EQ(log.recorded(), 5u);
  log.clear();
  EXPECT_TRUE(log.snapshot().empty());
  log.record("op", "k6", 2ms);
  ASSERT_EQ(log.snapshot().size(), 1u);
  EXPECT_EQ(log.snapshot()[0].id, 6u);
}

TEST(SlowLogTest, ThresholdChangesAtRunTime) {
  ManualClock clock;
  SlowLog log(SlowLogOptions{.threshold = 100ms}, clock);
  log.record("op", "k", 50ms);
  log.set_threshold(50ms);
  EXPECT_EQ(log.threshold(), 50ms);
  log.record("op", "k", 50ms);
  EXPECT_EQ(log.snapshot().size(), 1u);
}

TEST(SlowLogTest, TruncatesLongKeysAtACharacterBoundary) {
  ManualClock clock;
  SlowLog log(SlowLogOptions{.threshold = 0ms, .max_key_bytes = 5}, clock);
  log.record("op", "abcdefgh", 1ms);
  log.record("op", "abcd\xC3\xA9xyz", 1ms);  // é straddles byte 5
  log.record("op", "abcde", 1ms);
  const auto entries = log.snapshot();
  EXPECT_EQ(entries[2].key, "abcde");
  EXPECT_TRUE(entries[2].key_truncated);
  EXPECT_EQ(entries[1].key, "abcd");
  EXPECT_TRUE(entries[1].key_truncated);
  EXPECT_EQ(entries[0].key, "abcde");
  EXPECT_FALSE(entries[0].key_truncated);
}

TEST(SlowLogTest, TakesRecordsFromManyThreads) {
  ManualClock clock;
  SlowLog log(SlowLogOptions{.capacity = 64, .threshold = 1ms}, clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 2000; ++i) {
        log.record("op", "key", i % 2 == 0 ? 2ms : 0ms, std::to_string(t));
        if (i % 100 == 0) (void)log.snapshot();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(log.recorded(), 4000u);
  const auto entries = log.snapshot();
  ASSERT_EQ(entries.size(), 64u);
  for (std::size_t i = 1; i < entries.size(); ++i) EXPECT_EQ(entries[i - 1].id, entries[i].id + 1);
}

// RestApi keeps only the first max_key_bytes() + 1 bytes of a request's target in case the
// request is slow (issue #5): the entry must be the one the whole target would have made.
TEST(SlowLogTest, APrefixOfMaxKeyBytesPlusOneMakesTheSameEntryAsTheWholeKey) {
  ManualClock clock;
  SlowLog whole(SlowLogOptions{.threshold = 1ms, .max_key_bytes = 8}, clock);
  SlowLog prefix(SlowLogOptions{.threshold = 1ms, .max_key_bytes = 8}, clock);
  ASSERT_EQ(prefix.max_key_bytes(), 8u);
  // Short, exactly at the bound, one past it, long, and cut inside a UTF-8 character.
  for (const std::string key : {"/v1/a", "/v1/abcd", "/v1/abcde", "/v1/cache/users/42",
                                "/v1/abc\xc3\xa9"
                                "def"}) {
    whole.record("GET", key, 2ms);
    prefix.record("GET", std::string_view(key).substr(0, prefix.max_key_bytes() + 1), 2ms);
    const auto a = whole.snapshot().front();
    const auto b = prefix.snapshot().front();
    EXPECT_EQ(a.key, b.key) << key;
    EXPECT_EQ(a.key_truncated, b.key_truncated) << key;
  }
}

}  // namespace
}  // namespace tiercache::metrics
