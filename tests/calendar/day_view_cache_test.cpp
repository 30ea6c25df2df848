// The parsed day views without Redis: a view is served only for the very cache entries it was
// decoded from (the same bytes in another entry, as after a rewrite or an invalidation, are a
// miss), never once those entries are gone, and the kept bytes stay within the bound (issue #8).

#include "calendar/day_view_cache.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tiercache::calendar::detail {
namespace {

std::shared_ptr<const cache::Entry> entry(std::string bytes) {
  return std::make_shared<const cache::Entry>(cache::Entry{.value = std::move(bytes)});
}

DayView view_of(int events) {
  std::vector<Event> out;
  for (int i = 0; i < events; ++i) {
    Event e;
    e.id = "e" + std::to_string(i);
    e.title = "an event with a title long enough to weigh something";
    e.categories = {"music"};
    out.push_back(std::move(e));
  }
  return std::make_shared<const std::vector<Event>>(std::move(out));
}

TEST(DayViewCacheTest, ServesAViewOnlyForTheEntriesItWasDecodedFrom) {
  DayViewCache views(1 << 20);
  const auto all = entry("[]");
  const auto music = entry("[]");
  const BucketEntries sources{all, music};
  const auto view = view_of(3);
  EXPECT_EQ(views.find("k", sources), nullptr);
  views.insert("k", sources, view);
  EXPECT_EQ(views.find("k", sources), view);
  EXPECT_EQ(views.find("other", sources), nullptr);
  // The same bytes in a new entry (a rewrite, a reload from Redis) are another entry.
  EXPECT_EQ(views.find("k", BucketEntries{all, entry("[]")}), nullptr);
  // Another order of layers, or fewer of them, is another view.
  EXPECT_EQ(views.find("k", BucketEntries{music, all}), nullptr);
  EXPECT_EQ(views.find("k", BucketEntries{all}), nullptr);
  const auto c = views.counters();
  EXPECT_EQ(c.hits, 1u);
  EXPECT_EQ(c.misses, 5u);
  EXPECT_EQ(c.entries, 1u);
  EXPECT_GT(c.bytes, 0u);
}

TEST(DayViewCacheTest, AViewWhoseEntriesAreGoneIsNeverServedAgain) {
  DayViewCache views(1 << 20);
  auto bucket = entry("[]");
  views.insert("k", BucketEntries{bucket}, view_of(1));
  ASSERT_NE(views.find("k", BucketEntries{bucket}), nullptr);
  bucket.reset();  // L1 dropped it: invalidated, evicted or replaced
  // Whatever object now stands at that address, it is not the one the view was decoded from.
  for (int i = 0; i < 64; ++i) EXPECT_EQ(views.find("k", BucketEntries{entry("[]")}), nullptr);
}

TEST(DayViewCacheTest, AReplacedViewIsTheOneServed) {
  DayViewCache views(1 << 20);
  const auto old_bucket = entry("[1]");
  const auto new_bucket = entry("[2]");
  const auto old_view = view_of(1);
  const auto new_view = view_of(2);
  views.insert("k", BucketEntries{old_bucket}, old_view);
  views.insert("k", BucketEntries{new_bucket}, new_view);
  EXPECT_EQ(views.find("k", BucketEntries{new_bucket}), new_view);
  EXPECT_EQ(views.find("k", BucketEntries{old_bucket}), nullptr);
  EXPECT_EQ(views.counters().entries, 1u);
}

TEST(DayViewCacheTest, KeepsWithinItsBoundAndCountsEvictions) {
  const std::size_t bound = 64 << 10;
  DayViewCache views(bound);
  std::vector<std::shared_ptr<const cache::Entry>> alive;
  for (int i = 0; i < 500; ++i) {
    alive.push_back(entry("[]"));
    views.insert("day" + std::to_string(i), BucketEntries{alive.back()}, view_of(10));
    ASSERT_LE(views.counters().bytes, bound);
  }
  const auto c = views.counters();
  EXPECT_GT(c.evictions, 0u);
  EXPECT_LT(c.entries, 500u);
  // The newest view is still there.
  EXPECT_NE(views.find("day499", BucketEntries{alive.back()}), nullptr);
}

TEST(DayViewCacheTest, ABoundOfZeroKeepsNothing) {
  DayViewCache views(0);
  const auto bucket = entry("[]");
  views.insert("k", BucketEntries{bucket}, view_of(1));
  EXPECT_EQ(views.find("k", BucketEntries{bucket}), nullptr);
  EXPECT_EQ(views.counters().entries, 0u);
}

}  // namespace
}  // namespace tiercache::calendar::detail
