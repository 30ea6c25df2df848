// The coverage index without Redis: which days a set of stored ranges answers for which
// categories, how a newer store replaces an older one day by day, how invalidation cuts ranges,
// and how a day's layers combine into its events.

#include "calendar/coverage.hpp"

#include "tiercache/calendar/date.hpp"

#include "calendar/keys.hpp"

#include <gtest/gtest.h>

namespace tiercache::calendar::detail {
namespace {

Day day(const char* text) { return parse_day(text).value(); }
DateRange range(const char* from, const char* to) { return parse_range(from, to).value(); }

CoverageRecord record(DateRange r, std::vector<std::string> cats, std::int64_t stored,
                      std::int64_t expires = 1'000'000) {
  CoverageRecord out;
  out.range = r;
  out.catkey = category_key(cats);
  out.categories = std::move(cats);
  out.stored_ms = stored;
  out.expires_ms = expires;
  return out;
}

std::vector<std::string> days(const std::vector<Day>& ds) {
  std::vector<std::string> out;
  for (auto d : ds) out.push_back(format_day(d));
  return out;
}

TEST(CoverageTest, AContainedRangeAndAUnionOfOverlappingRangesAreCovered) {
  CoverageIndex index;
  index.add(record(range("2026-05-01", "2026-05-07"), {}, 1), 256);
  EXPECT_TRUE(index.missing(range("2026-05-03", "2026-05-05"), {}, 10).empty());
  EXPECT_TRUE(index.missing(range("2026-05-01", "2026-05-07"), {}, 10).empty());
  EXPECT_EQ(days(index.missing(range("2026-05-06", "2026-05-09"), {}, 10)),
            (std::vector<std::string>{"2026-05-08", "2026-05-09"}));

  CoverageIndex two;
  two.add(record(range("2026-05-01", "2026-05-04"), {}, 1), 256);
  two.add(record(range("2026-05-04", "2026-05-09"), {}, 2), 256);
  EXPECT_TRUE(two.missing(range("2026-05-02", "2026-05-08"), {}, 10).empty());
}

TEST(CoverageTest, ExpiredRecordsCoverNothingAndArePruned) {
  CoverageIndex index;
  index.add(record(range("2026-05-01", "2026-05-02"), {}, 1, 100), 256);
  index.add(record(range("2026-05-05", "2026-05-06"), {}, 1, 500), 256);
  EXPECT_EQ(index.missing(range("2026-05-01", "2026-05-01"), {}, 100).size(), 1u);
  EXPECT_EQ(index.prune(100), 1u);
  EXPECT_EQ(index.records.size(), 1u);
  EXPECT_EQ(index.min_expiry(), 500);
}

TEST(CoverageTest, CategoriesAreAnsweredByAllOrBySetsHoldingThem) {
  CoverageIndex index;
  index.add(record(range("2026-05-01", "2026-05-03"), {"music", "theatre"}, 1), 256);
  index.add(record(range("2026-05-03", "2026-05-04"), {"sports"}, 2), 256);
  index.add(record(range("2026-05-04", "2026-05-04"), {}, 3), 256);
  EXPECT_TRUE(index.missing(range("2026-05-01", "2026-05-03"), {"music"}, 10).empty());
  EXPECT_EQ(days(index.missing(range("2026-05-01", "2026-05-04"), {"music"}, 10)),
            std::vector<std::string>{});  // the 4th by "all"
  EXPECT_EQ(days(index.missing(range("2026-05-02", "2026-05-04"), {"music", "sports"}, 10)),
            (std::vector<std::string>{"2026-05-02"}));
  EXPECT_EQ(days(index.missing(range("2026-05-01", "2026-05-04"), {}, 10)),
            (std::vector<std::string>{"2026-05-01", "2026-05-02", "2026-05-03"}));
}

TEST(CoverageTest, ANewerStoreOfTheSameSetSplitsTheOlderRecord) {
  CoverageIndex index;
  index.add(record(range("2026-05-01", "2026-05-09"), {"music"}, 1), 256);
  index.add(record(range("2026-05-04", "2026-05-05"), {"music"}, 2), 256);
  index.add(record(range("2026-05-01", "2026-05-09"), {"sports"}, 3), 256);
  ASSERT_EQ(index.records.size(), 4u);
  int music_days = 0;
  for (const auto& r : index.records) {
    if (r.categories == std::vector<std::string>{"music"})
      music_days += static_cast<int>(r.range.days());
  }
  EXPECT_EQ(music_days, 9);  // no day held twice
  const auto layers = index.layers(day("2026-05-04"), 10);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0]->stored_ms, 2);
  EXPECT_EQ(layers[1]->stored_ms, 3);
}

TEST(CoverageTest, SubtractCutsEveryRecordAndNamesTheBuckets) {
  CoverageIndex index;
  index.add(record(range("2026-05-01", "2026-05-07"), {}, 1), 256);
  index.add(record(range("2026-05-04", "2026-05-04"), {"music"}, 2), 256);
  const auto dropped = index.subtract(range("2026-05-03", "2026-05-05"));
  EXPECT_EQ(dropped.size(), 4u);  // 3 days of "all" + 1 of music
  EXPECT_EQ(days(index.missing(range("2026-05-01", "2026-05-07"), {}, 10)),
            (std::vector<std::string>{"2026-05-03", "2026-05-04", "2026-05-05"}));
  auto back = CoverageIndex::parse(index.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->records, index.records);
  EXPECT_FALSE(CoverageIndex::parse("{\"r\": [{}]}"));
  EXPECT_FALSE(CoverageIndex::parse("not json"));
}

TEST(CoverageTest, TheIndexKeepsItsNewestRecordsWithinItsBound) {
  CoverageIndex index;
  for (int i = 0; i < 10; ++i) {
    const Day d = day("2026-05-01") + std::chrono::days(i);
    index.add(record(DateRange{d, d}, {}, i, 1000 + i), 4);
  }
  ASSERT_EQ(index.records.size(), 4u);
  EXPECT_EQ(index.records.back().stored_ms, 9);
  EXPECT_EQ(index.min_expiry(), 1006);
}

Event ev(const char* id, std::vector<std::string> cats) {
  Event e;
  e.id = id;
  e.start = parse_time("2026-05-03T10:00:00Z").value();
  e.categories = std::move(cats);
  return e;
}

TEST(CoverageTest, ANewerCategoryStoreReplacesThoseCategoriesInTheDayView) {
  const auto all = record(range("2026-05-03", "2026-05-03"), {}, 1);
  const auto music = record(range("2026-05-03", "2026-05-03"), {"music"}, 2);
  const std::vector<Event> old_all{ev("concert", {"music"}), ev("match", {"sports"}),
                                   ev("gig", {"music", "bar"})};
  const std::vector<Event> new_music{ev("opera", {"music"})};
  std::vector<Layer> layers{{&all, old_all}, {&music, new_music}};
  std::vector<std::string> got;
  for (const auto& e : day_view(layers)) got.push_back(e.id);
  EXPECT_EQ(got, (std::vector<std::string>{"match", "opera"}));
  // A newer "all" store replaces everything before it.
  const auto all2 = record(range("2026-05-03", "2026-05-03"), {}, 3);
  const std::vector<Event> newest{ev("fair", {})};
  layers.push_back({&all2, newest});
  got.clear();
  for (const auto& e : day_view(layers)) got.push_back(e.id);
  EXPECT_EQ(got, std::vector<std::string>{"fair"});
}

TEST(KeysTest, LocationsAreNormalizedAndHashTagged) {
  EXPECT_EQ(normalize_location("  New   York ", 200).value(), "new york");
  EXPECT_FALSE(normalize_location("   ", 200));
  EXPECT_FALSE(normalize_location("a\x01z", 200));
  EXPECT_FALSE(normalize_location(std::string(201, 'a'), 200));
  const Keys keys("calendar", "new york {x}");
  EXPECT_EQ(keys.index(), "idx:{new+york+%7Bx%7D}");
  EXPECT_EQ(keys.rank(day("2026-05-03"), Ranking::score),
            "calendar:rank:{new+york+%7Bx%7D}:2026-05-03:score");
  EXPECT_EQ(category_key({}), "all");
  EXPECT_EQ(category_key({"jazz", "music"}), category_key({"jazz", "music"}));
  EXPECT_NE(category_key({"jazz", "music"}), category_key({"music"}));
  EXPECT_EQ(normalize_categories({" Music", "music", "Jazz"}).value(),
            (std::vector<std::string>{"jazz", "music"}));
  EXPECT_FALSE(normalize_categories({"a,b"}));
  EXPECT_FALSE(normalize_categories({""}));
}

}  // namespace
}  // namespace tiercache::calendar::detail
