// CalendarCache against a real redis-server: a range is answered from the stored ranges that
// cover it (exact, contained, a union of two), a partial range is a miss naming its days;
// categories are answered by "all" or by a superset; a newer store replaces an older one;
// invalidating a range or a location stops the answers in this instance and in a second one
// with its own L1; kept day views follow every change; a get never waits for the popularity
// flush; bad input is refused and changes nothing.

#include "tiercache/calendar/calendar_cache.hpp"

#include "tiercache/calendar/error.hpp"

#include "tests/calendar/calendar_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace tiercache::calendar {
namespace {

using namespace test;

class CalendarCacheTest : public CalendarFixture {
 protected:
  // A week of Paris: one event a day (e1..e7, May 1..7), music on odd days, sports on even.
  std::vector<Event> week() {
    std::vector<Event> out;
    for (int i = 1; i <= 7; ++i) {
      const std::string d = "2026-05-0" + std::to_string(i);
      out.push_back(
          event("e" + std::to_string(i), d + "T18:00:00Z", {i % 2 == 1 ? "music" : "sports"}, i));
    }
    return out;
  }
  Lookup get(CalendarCache& cal, std::string loc, DateRange r, std::vector<std::string> cats = {}) {
    auto l = run(ex(), cal.get(std::move(loc), r, std::move(cats)));
    EXPECT_TRUE(l) << l.error().message();
    return l ? *l : Lookup{};
  }
};

TEST_F(CalendarCacheTest, AnswersTheExactRangeAndAnyRangeInsideIt) {
  auto cal = make();
  auto stored = run(ex(), cal->store("Paris", range("2026-05-01", "2026-05-07"), week()));
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(*stored, 7u);
  auto all = get(*cal, "paris", range("2026-05-01", "2026-05-07"));
  ASSERT_TRUE(all.hit);
  EXPECT_EQ(ids(all.events), (std::vector<std::string>{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}));
  EXPECT_EQ(all.location, "paris");
  auto inside = get(*cal, "  PARIS ", range("2026-05-03", "2026-05-05"));
  ASSERT_TRUE(inside.hit);
  EXPECT_EQ(ids(inside.events), (std::vector<std::string>{"e3", "e4", "e5"}));
  EXPECT_EQ(inside.events[0].title, "title of e3");
  EXPECT_EQ(cal->counters().hits, 2u);
}

TEST_F(CalendarCacheTest, ACoveredGetAnsweredFromL1SendsNothingToRedis) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-07"), week())));
  ASSERT_TRUE(get(*cal, "paris", range("2026-05-02", "2026-05-06")).hit);
  const std::string before = cli({"INFO", "commandstats"});
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(get(*cal, "paris", range("2026-05-02", "2026-05-06")).hit);
  const std::string after = cli({"INFO", "commandstats"});
  // Only the INFO itself was counted in between (popularity waits for its batch of 64).
  auto calls = [](const std::string& stats, const std::string& command) {
    const std::string tag = "cmdstat_" + command + ":calls=";
    const auto at = stats.find(tag);
    return at == std::string::npos ? 0ull : std::stoull(stats.substr(at + tag.size()));
  };
  for (const char* command : {"get", "mget", "evalsha", "zincrby", "zrange"}) {
    EXPECT_EQ(calls(after, command), calls(before, command)) << command;
  }
}

TEST_F(CalendarCacheTest, AnswersFromTheUnionOfTwoOverlappingRanges) {
  auto cal = make();
  auto events = week();
  std::vector<Event> first(events.begin(), events.begin() + 4);  // May 1..4
  std::vector<Event> second(events.begin() + 3, events.end());   // May 4..7
  second.push_back(event("e9", "2026-05-09T10:00:00Z", {"music"}));
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-04"), first)));
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-04", "2026-05-09"), second)));
  auto l = get(*cal, "paris", range("2026-05-02", "2026-05-09"));
  ASSERT_TRUE(l.hit);
  EXPECT_EQ(ids(l.events), (std::vector<std::string>{"e2", "e3", "e4", "e5", "e6", "e7", "e9"}));
}

TEST_F(CalendarCacheTest, APartlyCoveredRangeIsAMissNamingTheMissingDays) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-04"), {})));
  auto l = get(*cal, "paris", range("2026-05-03", "2026-05-06"));
  EXPECT_FALSE(l.hit);
  EXPECT_TRUE(l.events.empty());
  ASSERT_EQ(l.missing_days.size(), 2u);
  EXPECT_EQ(format_day(l.missing_days[0]), "2026-05-05");
  EXPECT_EQ(format_day(l.missing_days[1]), "2026-05-06");
  // A covered range without events is a hit with none.
  auto empty = get(*cal, "paris", range("2026-05-02", "2026-05-03"));
  EXPECT_TRUE(empty.hit);
  EXPECT_TRUE(empty.events.empty());
  EXPECT_FALSE(get(*cal, "lyon", range("2026-05-02", "2026-05-03")).hit);
  EXPECT_EQ(cal->counters().misses, 2u);
}

TEST_F(CalendarCacheTest, FiltersByCategoriesFromAllOrFromASuperset) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-07"), week())));
  auto music = get(*cal, "paris", range("2026-05-01", "2026-05-04"), {"Music"});
  ASSERT_TRUE(music.hit);
  EXPECT_EQ(ids(music.events), (std::vector<std::string>{"e1", "e3"}));

  // Berlin: only music and theatre were stored: music is answered, sports and "all" are not.
  std::vector<Event> berlin{event("b1", "2026-05-02T20:00:00Z", {"music"}),
                            event("b2", "2026-05-02T21:00:00Z", {"theatre"})};
  StoreOptions only;
  only.categories = {"music", "theatre"};
  ASSERT_TRUE(run(ex(), cal->store("berlin", range("2026-05-01", "2026-05-03"), berlin, only)));
  auto b = get(*cal, "berlin", range("2026-05-01", "2026-05-03"), {"music"});
  ASSERT_TRUE(b.hit);
  EXPECT_EQ(ids(b.events), std::vector<std::string>{"b1"});
  EXPECT_FALSE(get(*cal, "berlin", range("2026-05-01", "2026-05-03"), {"sports"}).hit);
  EXPECT_FALSE(get(*cal, "berlin", range("2026-05-01", "2026-05-03")).hit);
  EXPECT_FALSE(get(*cal, "berlin", range("2026-05-01", "2026-05-03"), {"music", "sports"}).hit);
}

TEST_F(CalendarCacheTest, ANewerStoreReplacesTheOlderOneDayByDay) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-07"), week())));
  // Music of May 3 again: e3 is gone, e3b came; sports (e4) stay as they were.
  StoreOptions music;
  music.categories = {"music"};
  std::vector<Event> again{event("e3b", "2026-05-03T20:00:00Z", {"music"})};
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-03", "2026-05-04"), again, music)));
  auto l = get(*cal, "paris", range("2026-05-03", "2026-05-04"));
  ASSERT_TRUE(l.hit);
  EXPECT_EQ(ids(l.events), (std::vector<std::string>{"e3b", "e4"}));
}

TEST_F(CalendarCacheTest, InvalidatingARangeStopsAnswersHereAndInAnotherInstance) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->store("paris", range("2026-05-01", "2026-05-07"), week())));
  ASSERT_TRUE(get(*b, "paris", range("2026-05-01", "2026-05-07")).hit);  // b's L1 holds it now
  ASSERT_TRUE(get(*b, "paris", range("2026-05-01", "2026-05-07")).hit);
  ASSERT_TRUE(run(ex(), a->invalidate_range("paris", range("2026-05-03", "2026-05-04"))));
  auto here = get(*a, "paris", range("2026-05-01", "2026-05-07"));
  EXPECT_FALSE(here.hit);
  ASSERT_EQ(here.missing_days.size(), 2u);
  EXPECT_EQ(format_day(here.missing_days[0]), "2026-05-03");
  EXPECT_TRUE(eventually([&] { return !get(*b, "paris", range("2026-05-03", "2026-05-03")).hit; }));
  // The rest of the week still answers, in both.
  EXPECT_TRUE(get(*b, "paris", range("2026-05-05", "2026-05-07")).hit);
  EXPECT_TRUE(get(*a, "paris", range("2026-05-01", "2026-05-02")).hit);
  // The days' keys are gone from Redis, not only unreachable.
  EXPECT_EQ(cli({"EXISTS", "calendar:rank:{paris}:2026-05-03:start"}), "0");
  EXPECT_EQ(cli({"EXISTS", "calendar:rank:{paris}:2026-05-05:start"}), "1");
}

TEST_F(CalendarCacheTest, InvalidatingALocationStopsAnswersHereAndInAnotherInstance) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->store("paris", range("2026-05-01", "2026-05-07"), week())));
  ASSERT_TRUE(run(ex(), a->store("rome", range("2026-05-01", "2026-05-02"), {})));
  ASSERT_TRUE(get(*b, "paris", range("2026-05-01", "2026-05-07")).hit);
  ASSERT_TRUE(run(ex(), b->invalidate_location("Paris")));
  EXPECT_TRUE(eventually([&] { return !get(*a, "paris", range("2026-05-01", "2026-05-07")).hit; }));
  EXPECT_FALSE(get(*b, "paris", range("2026-05-02", "2026-05-02")).hit);
  EXPECT_TRUE(get(*a, "rome", range("2026-05-01", "2026-05-02")).hit);
  EXPECT_EQ(cli({"EXISTS", "calendar:rank:{paris}:2026-05-03:start"}), "0");
  EXPECT_EQ(cli({"EXISTS", "calendar:days:{paris}"}), "0");
  // Stored again, it answers again.
  ASSERT_TRUE(run(ex(), a->store("paris", range("2026-05-01", "2026-05-02"), {})));
  EXPECT_TRUE(eventually([&] { return get(*b, "paris", range("2026-05-01", "2026-05-02")).hit; }));
}

// Issue #8: the parsed day views are kept, and never outlive what the cache serves.
TEST_F(CalendarCacheTest, KeptDayViewsAnswerRepeatedReadsAndFollowEveryChange) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->store("paris", range("2026-05-01", "2026-05-07"), week())));
  // The store decoded its days once already (for their summaries): the views are kept.
  ASSERT_TRUE(get(*a, "paris", range("2026-05-02", "2026-05-04")).hit);
  const auto first = a->counters();
  EXPECT_GE(first.day_view_entries, 3u);
  for (int i = 0; i < 5; ++i) {
    auto again = get(*a, "paris", range("2026-05-02", "2026-05-04"));
    ASSERT_TRUE(again.hit);
    EXPECT_EQ(ids(again.events), (std::vector<std::string>{"e2", "e3", "e4"}));
  }
  const auto later = a->counters();
  EXPECT_EQ(later.day_view_hits - first.day_view_hits, 15u);  // three days, five reads
  EXPECT_EQ(later.day_view_misses, first.day_view_misses);    // nothing decoded again
  EXPECT_GT(later.day_view_bytes, 0u);

  // A newer store of May 3 (from the other instance): a's kept view of that day is not served.
  StoreOptions music;
  music.categories = {"music"};
  std::vector<Event> again{event("e3b", "2026-05-03T20:00:00Z", {"music"})};
  ASSERT_TRUE(run(ex(), b->store("paris", range("2026-05-03", "2026-05-03"), again, music)));
  EXPECT_TRUE(eventually([&] {
    return ids(get(*a, "paris", range("2026-05-02", "2026-05-04")).events) ==
           std::vector<std::string>{"e2", "e3b", "e4"};
  }));
  // Invalidated: a miss, in both, whatever views were kept.
  ASSERT_TRUE(run(ex(), b->invalidate_range("paris", range("2026-05-04", "2026-05-04"))));
  EXPECT_TRUE(eventually([&] { return !get(*a, "paris", range("2026-05-02", "2026-05-04")).hit; }));
  EXPECT_FALSE(get(*b, "paris", range("2026-05-04", "2026-05-04")).hit);
  ASSERT_TRUE(run(ex(), b->invalidate_location("paris")));
  EXPECT_TRUE(eventually([&] { return !get(*a, "paris", range("2026-05-02", "2026-05-02")).hit; }));
}

TEST_F(CalendarCacheTest, WithDayViewsOffEveryReadDecodesAndAnswersTheSame) {
  Options options;
  options.day_view_bytes = 0;
  auto cal = make(options);
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-07"), week())));
  for (int i = 0; i < 3; ++i) {
    auto l = get(*cal, "paris", range("2026-05-03", "2026-05-04"));
    ASSERT_TRUE(l.hit);
    EXPECT_EQ(ids(l.events), (std::vector<std::string>{"e3", "e4"}));
  }
  EXPECT_EQ(cal->counters().day_view_hits, 0u);
  EXPECT_EQ(cal->counters().day_view_entries, 0u);
}

// Issue #8: a get never waits for the popularity flush. Writes are held (CLIENT PAUSE WRITE), so
// the flush a full batch starts cannot complete; the gets answered from L1 still do, and once
// writes resume every count arrives (none was dropped by a reader giving up on it).
TEST_F(CalendarCacheTest, AGetNeverWaitsForThePopularityFlush) {
  Options options;
  options.popularity_batch = 1;
  auto cal = make(options);
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-07"), week())));
  ASSERT_TRUE(get(*cal, "paris", range("2026-05-02", "2026-05-03")).hit);  // L1 warm
  ASSERT_TRUE(eventually([&] { return cli({"ZSCORE", "calendar:popularity", "paris"}) == "1"; }));
  ASSERT_EQ(cli({"CLIENT", "PAUSE", "20000", "WRITE"}), "OK");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(get(*cal, "paris", range("2026-05-02", "2026-05-03")).hit);
  }
  EXPECT_EQ(cli({"ZSCORE", "calendar:popularity", "paris"}), "1");  // still held
  ASSERT_EQ(cli({"CLIENT", "UNPAUSE"}), "OK");
  auto top = run(ex(), cal->popular_locations(1));
  ASSERT_TRUE(top) << top.error().message();
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].gets, 21.0);
}

TEST_F(CalendarCacheTest, BadInputIsRefusedAndChangesNothing) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-02"), {})));
  const std::string before = cli({"DBSIZE"});
  const auto week_range = range("2026-05-01", "2026-05-07");
  struct Case {
    std::string location;
    DateRange r;
    std::vector<Event> events;
    StoreOptions options;
    Errc expected;
  };
  DateRange backwards{day("2026-05-07"), day("2026-05-01")};
  StoreOptions negative;
  negative.ttl = std::chrono::milliseconds(-5);
  StoreOptions too_long_ttl;
  too_long_ttl.ttl = std::chrono::hours(24 * 365);
  StoreOptions bad_category;
  bad_category.categories = {"a,b"};
  StoreOptions music;
  music.categories = {"music"};
  auto dup = week();
  dup[1].id = "e1";
  auto outside = week();
  outside.push_back(event("late", "2026-06-01T10:00:00Z"));
  auto reversed = week();
  reversed[0].end = reversed[0].start - std::chrono::hours(1);
  auto nan_score = week();
  nan_score[4].score = std::nan("");
  auto no_id = week();
  no_id[2].id.clear();
  const std::vector<Case> cases{
      {"", week_range, week(), {}, Errc::invalid_location},
      {"  \t ", week_range, week(), {}, Errc::invalid_location},
      {std::string(300, 'x'), week_range, week(), {}, Errc::invalid_location},
      {"paris", backwards, {}, {}, Errc::invalid_range},
      {"paris", range("2026-01-01", "2027-01-02"), {}, {}, Errc::range_too_long},
      {"paris", week_range, week(), negative, Errc::invalid_ttl},
      {"paris", week_range, week(), too_long_ttl, Errc::invalid_ttl},
      {"paris", week_range, week(), bad_category, Errc::invalid_argument},
      {"paris", week_range, week(), music, Errc::invalid_event},  // sports events in a music store
      {"paris", week_range, dup, {}, Errc::invalid_event},
      {"paris", week_range, outside, {}, Errc::invalid_event},
      {"paris", week_range, reversed, {}, Errc::invalid_event},
      {"paris", week_range, no_id, {}, Errc::invalid_event},
      {"paris", week_range, nan_score, {}, Errc::invalid_event},
  };
  for (const auto& c : cases) {
    auto r = run(ex(), cal->store(c.location, c.r, c.events, c.options));
    ASSERT_FALSE(r) << c.location;
    EXPECT_EQ(r.error(), c.expected) << r.error().message();
    EXPECT_TRUE(store_problem(cal->options(), c.location, c.r, c.events, c.options));
  }
  EXPECT_FALSE(store_problem(cal->options(), "paris", week_range, week(), {}));
  EXPECT_NE(store_problem(cal->options(), "paris", week_range, dup, {})->find("duplicate"),
            std::string::npos);
  // Reads and invalidations refuse bad input too.
  EXPECT_EQ(run(ex(), cal->get("", week_range)).error(), Errc::invalid_location);
  EXPECT_EQ(run(ex(), cal->get("paris", backwards)).error(), Errc::invalid_range);
  EXPECT_EQ(run(ex(), cal->get("paris", week_range, {""})).error(), Errc::invalid_argument);
  EXPECT_EQ(run(ex(), cal->invalidate_range("paris", backwards)).error(), Errc::invalid_range);
  EXPECT_EQ(run(ex(), cal->invalidate_location(" ")).error(), Errc::invalid_location);
  EXPECT_EQ(run(ex(), cal->top_events("paris", day("2026-05-01"), 0, Ranking::score)).error(),
            Errc::invalid_argument);
  EXPECT_EQ(cli({"DBSIZE"}), before);
  EXPECT_TRUE(get(*cal, "paris", range("2026-05-01", "2026-05-02")).hit);
  EXPECT_EQ(cal->counters().stores, 1u);
}

}  // namespace
}  // namespace tiercache::calendar
