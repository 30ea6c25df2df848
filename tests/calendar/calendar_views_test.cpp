// What the CalendarCache keeps beside the events, against a real redis-server: rankings by start
// time and by score (top-N per day), the history stream (order, time windows), invalidation
// notices on pub/sub, warming of the most asked locations only, daily summaries refreshed by
// stores, cleanup of expired index entries, and stats.

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/calendar/error.hpp"
#include "tiercache/calendar/notice.hpp"
#include "tiercache/redis/subscriber.hpp"

#include "tests/calendar/calendar_test_util.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

namespace tiercache::calendar {
namespace {

using namespace test;

// May 3 in Paris: starts and scores deliberately in different orders.
std::vector<Event> may3() {
  return {event("breakfast", "2026-05-03T08:00:00Z", {"food"}, 2),
          event("concert", "2026-05-03T20:00:00Z", {"music"}, 9),
          event("match", "2026-05-03T15:00:00Z", {"sports"}, 7),
          event("market", "2026-05-03T10:00:00Z", {"food"}, 4),
          event("late", "2026-05-03T23:30:00Z", {"music"}, 1)};
}

class CalendarViewsTest : public CalendarFixture {};

TEST_F(CalendarViewsTest, RanksADayByStartTimeAndByScore) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-05"), may3())));
  auto by_start = run(ex(), cal->top_events("paris", day("2026-05-03"), 3, Ranking::start_time));
  ASSERT_TRUE(by_start);
  EXPECT_TRUE(by_start->covered);
  EXPECT_EQ(ids(by_start->events), (std::vector<std::string>{"breakfast", "market", "match"}));
  auto by_score = run(ex(), cal->top_events("paris", day("2026-05-03"), 2, Ranking::score));
  ASSERT_TRUE(by_score);
  EXPECT_EQ(ids(by_score->events), (std::vector<std::string>{"concert", "match"}));
  auto everything = run(ex(), cal->top_events("paris", day("2026-05-03"), 50, Ranking::score));
  ASSERT_TRUE(everything);
  EXPECT_EQ(ids(everything->events),
            (std::vector<std::string>{"concert", "match", "market", "breakfast", "late"}));
  // A covered day without events, and a day not covered.
  auto quiet = run(ex(), cal->top_events("paris", day("2026-05-04"), 3, Ranking::score));
  ASSERT_TRUE(quiet);
  EXPECT_TRUE(quiet->covered);
  EXPECT_TRUE(quiet->events.empty());
  auto unknown = run(ex(), cal->top_events("paris", day("2026-06-01"), 3, Ranking::score));
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->covered);
  // Music restored without the concert: the ranking no longer names it; the new one ranks first.
  StoreOptions music;
  music.categories = {"music"};
  std::vector<Event> again{event("opera", "2026-05-03T19:00:00Z", {"music"}, 12)};
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-03", "2026-05-03"), again, music)));
  by_score = run(ex(), cal->top_events("paris", day("2026-05-03"), 3, Ranking::score));
  ASSERT_TRUE(by_score);
  EXPECT_EQ(ids(by_score->events), (std::vector<std::string>{"opera", "match", "market"}));
}

TEST_F(CalendarViewsTest, HistoryKeepsEveryChangeInOrderAndReadsByTime) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-05"), may3())));
  StoreOptions music;
  music.categories = {"music"};
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-03", "2026-05-03"), {}, music)));
  ASSERT_TRUE(run(ex(), cal->invalidate_range("paris", range("2026-05-02", "2026-05-03"))));
  ASSERT_TRUE(run(ex(), cal->invalidate_location("paris")));
  const TimePoint epoch{};
  const TimePoint far = parse_time("2999-01-01").value();
  auto h = run(ex(), cal->history("paris", epoch, far, 100));
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].op, "store");
  EXPECT_EQ((*h)[0].events, 5u);
  EXPECT_EQ((*h)[0].event_ids.size(), 5u);
  EXPECT_EQ((*h)[0].range, range("2026-05-01", "2026-05-05"));
  EXPECT_EQ((*h)[0].ttl_ms, 24 * 3600 * 1000);
  EXPECT_EQ((*h)[1].op, "store");
  EXPECT_EQ((*h)[1].categories, std::vector<std::string>{"music"});
  EXPECT_EQ((*h)[2].op, "invalidate_range");
  EXPECT_EQ((*h)[2].range, range("2026-05-02", "2026-05-03"));
  EXPECT_EQ((*h)[3].op, "invalidate_location");
  EXPECT_FALSE((*h)[3].range);
  for (std::size_t i = 1; i < h->size(); ++i) {
    EXPECT_LT((*h)[i - 1].id, (*h)[i].id);
    EXPECT_LE((*h)[i - 1].at, (*h)[i].at);
  }
  // Windows: from the last entry's time on, up to the first's, and the first two by limit.
  auto tail = run(ex(), cal->history("paris", h->back().at, far, 100));
  ASSERT_TRUE(tail);
  ASSERT_FALSE(tail->empty());
  EXPECT_EQ(tail->back().id, h->back().id);
  for (const auto& e : *tail) EXPECT_GE(e.at, h->back().at);
  auto head = run(ex(), cal->history("paris", epoch, h->front().at, 100));
  ASSERT_TRUE(head);
  ASSERT_FALSE(head->empty());
  EXPECT_EQ(head->front().id, h->front().id);
  for (const auto& e : *head) EXPECT_LE(e.at, h->front().at);
  auto two = run(ex(), cal->history("paris", epoch, far, 2));
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].id, (*h)[1].id);
  auto none = run(ex(), cal->history("berlin", epoch, far, 10));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(run(ex(), cal->history("paris", far, epoch, 10)).error(), Errc::invalid_argument);
  EXPECT_EQ(run(ex(), cal->history("paris", epoch, far, 0)).error(), Errc::invalid_argument);
}

TEST_F(CalendarViewsTest, ASubscriberReceivesEveryInvalidation) {
  auto cal = make();
  redis::Subscriber sub(ex(), server_.config());
  sub.start();
  std::mutex mu;
  std::vector<std::string> messages;
  auto subscribed = run(ex(), sub.subscribe({cal->options().invalidation_channel},
                                            [&](std::string_view, std::string_view message) {
                                              std::lock_guard lock(mu);
                                              messages.emplace_back(message);
                                            }));
  ASSERT_TRUE(subscribed) << subscribed.error().message();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-05"), may3())));
  ASSERT_TRUE(run(ex(), cal->invalidate_range("Paris", range("2026-05-02", "2026-05-03"))));
  ASSERT_TRUE(run(ex(), cal->invalidate_location("rome")));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return messages.size() >= 2;
  }));
  std::lock_guard lock(mu);
  ASSERT_EQ(messages.size(), 2u);
  auto first = parse_notice(messages[0]);
  ASSERT_TRUE(first) << messages[0];
  EXPECT_EQ(first->kind, InvalidationNotice::Kind::range);
  EXPECT_EQ(first->location, "paris");
  EXPECT_EQ(first->prefix, "calendar");
  EXPECT_EQ(first->range, range("2026-05-02", "2026-05-03"));
  auto second = parse_notice(messages[1]);
  ASSERT_TRUE(second) << messages[1];
  EXPECT_EQ(second->kind, InvalidationNotice::Kind::location);
  EXPECT_EQ(second->location, "rome");
  EXPECT_FALSE(second->range);
}

struct LoaderCalls {
  std::mutex mu;
  std::vector<std::string> locations;
};

asio::awaitable<Result<std::vector<Event>>> load_city(std::shared_ptr<LoaderCalls> calls,
                                                      std::string location, DateRange r) {
  {
    std::lock_guard lock(calls->mu);
    calls->locations.push_back(location);
  }
  if (location == "broken") throw std::runtime_error("upstream said 503");
  std::vector<Event> out{event(location + "-1", format_day(r.from) + "T12:00:00Z", {"music"}, 3)};
  co_return out;
}

TEST_F(CalendarViewsTest, WarmingLoadsOnlyTheMostAskedLocations) {
  auto cal = make();
  const auto week = range("2026-05-01", "2026-05-07");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(run(ex(), cal->get("Paris", week)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(ex(), cal->get("berlin", week)));
  ASSERT_TRUE(run(ex(), cal->get("rome", week)));
  auto top = run(ex(), cal->popular_locations(3));
  ASSERT_TRUE(top);
  ASSERT_EQ(top->size(), 3u);
  EXPECT_EQ((*top)[0].location, "paris");
  EXPECT_EQ((*top)[0].gets, 5);
  EXPECT_EQ((*top)[1].location, "berlin");
  EXPECT_EQ((*top)[2].location, "rome");

  auto calls = std::make_shared<LoaderCalls>();
  EventLoader loader = [calls](std::string location, DateRange r) {
    return load_city(calls, std::move(location), r);
  };
  auto report = run(ex(), cal->warm(2, week, loader));
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->loaded, (std::vector<std::string>{"paris", "berlin"}));
  EXPECT_EQ(report->events_stored, 2u);
  EXPECT_TRUE(report->failed.empty());
  EXPECT_EQ(calls->locations, (std::vector<std::string>{"paris", "berlin"}));
  EXPECT_TRUE(run(ex(), cal->get("paris", week))->hit);
  EXPECT_FALSE(run(ex(), cal->get("rome", week))->hit);
  // Again: what is covered is skipped; a throwing loader is reported, not fatal.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run(ex(), cal->get("broken", week)));
  report = run(ex(), cal->warm(2, week, loader));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->skipped, std::vector<std::string>{"paris"});
  ASSERT_EQ(report->failed.size(), 1u);
  EXPECT_EQ(report->failed[0].first, "broken");
  EXPECT_EQ(cal->counters().warm_loads, 2u);
  EXPECT_EQ(run(ex(), cal->warm(0, week, loader)).error(), Errc::invalid_argument);
}

TEST_F(CalendarViewsTest, TheDailySummaryChangesWhenEventsOfItsDayAreStored) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-05"), may3())));
  auto s = run(ex(), cal->daily_summary("paris", day("2026-05-03")));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->total, 5u);
  EXPECT_EQ((*s)->per_category.at("music"), 2u);
  EXPECT_EQ(format_time(*(*s)->first_start), "2026-05-03T08:00:00Z");
  ASSERT_FALSE((*s)->top.empty());
  EXPECT_EQ((*s)->top[0].id, "concert");
  // The summary is a key of its own with a 1 h TTL.
  const std::string summary_key = entry_key("sum:{paris}:2026-05-03");
  ASSERT_FALSE(summary_key.empty());
  const std::string ttl = cli({"PTTL", summary_key});
  EXPECT_GT(std::stoll(ttl), 0) << ttl;
  EXPECT_LE(std::stoll(ttl), 3600 * 1000);

  std::vector<Event> more{event("fair", "2026-05-03T11:00:00Z", {"food"}, 20)};
  StoreOptions food;
  food.categories = {"food"};
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-03", "2026-05-03"), more, food)));
  s = run(ex(), cal->daily_summary("paris", day("2026-05-03")));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->total, 4u);  // breakfast and market replaced by fair
  EXPECT_EQ((*s)->per_category.at("food"), 1u);
  EXPECT_EQ((*s)->top[0].id, "fair");
  // Gone from Redis, it is computed again from the day's events.
  EXPECT_EQ(cli({"DEL", summary_key}), "1");
  EXPECT_TRUE(eventually([&] {
    auto again = run(ex(), cal->daily_summary("paris", day("2026-05-03")));
    return again && *again && (*again)->total == 4u;
  }));
  auto other = run(ex(), cal->daily_summary("paris", day("2026-05-04")));
  ASSERT_TRUE(other && *other);
  EXPECT_EQ((*other)->total, 0u);
  auto none = run(ex(), cal->daily_summary("paris", day("2026-06-01")));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(CalendarViewsTest, CleanupRemovesTheIndexEntriesOfExpiredData) {
  auto cal = make();
  StoreOptions hour;
  hour.ttl = std::chrono::hours(1);
  StoreOptions two_days;
  two_days.ttl = std::chrono::hours(48);
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-05"), may3(), hour)));
  ASSERT_TRUE(run(ex(), cal->store("rome", range("2026-05-03", "2026-05-03"), may3(), two_days)));
  ASSERT_TRUE(run(ex(), cal->store("rome", range("2026-05-01", "2026-05-01"), {}, hour)));
  auto early = run(ex(), cal->cleanup());
  ASSERT_TRUE(early);
  EXPECT_EQ(early->locations_visited, 0u);  // nothing due yet
  EXPECT_EQ(cli({"EXISTS", "calendar:days:{paris}"}), "1");
  EXPECT_FALSE(entry_key("idx:{paris}").empty());

  clock_.advance(std::chrono::hours(2));
  auto report = run(ex(), cal->cleanup());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->locations_visited, 2u);  // paris, and rome for its hour-long store
  // Rome's expired record; Paris's index expired whole (it lives as long as its last record),
  // so cleanup deletes its key rather than pruning it.
  EXPECT_EQ(report->records_removed, 1u);
  EXPECT_EQ(report->days_removed, 1u);
  EXPECT_EQ(report->locations_dropped, 1u);
  EXPECT_GE(report->keys_removed, 2u);
  EXPECT_EQ(cli({"EXISTS", "calendar:days:{paris}"}), "0");
  EXPECT_EQ(cli({"EXISTS", "calendar:rank:{paris}:2026-05-03:score"}), "0");
  EXPECT_EQ(entry_key("idx:{paris}"), "");
  EXPECT_EQ(entry_key("sum:{paris}:2026-05-03"), "");
  EXPECT_FALSE(entry_key("idx:{rome}").empty());
  EXPECT_EQ(cli({"ZSCORE", "calendar:locations", "paris"}), "");
  EXPECT_EQ(cli({"EXISTS", "calendar:days:{rome}"}), "1");
  EXPECT_NE(cli({"ZSCORE", "calendar:locations", "rome"}), "");
  EXPECT_FALSE(run(ex(), cal->get("paris", range("2026-05-03", "2026-05-03")))->hit);
  EXPECT_TRUE(run(ex(), cal->get("rome", range("2026-05-03", "2026-05-03")))->hit);
  EXPECT_FALSE(run(ex(), cal->get("rome", range("2026-05-01", "2026-05-01")))->hit);
  EXPECT_EQ(entry_key("ev:{rome}:2026-05-01:all"), "");
  // Rome is due again only when its two-day store expires.
  auto later = run(ex(), cal->cleanup());
  ASSERT_TRUE(later);
  EXPECT_EQ(later->locations_visited, 0u);
  EXPECT_EQ(cal->counters().cleanup_runs, 3u);
}

TEST_F(CalendarViewsTest, StatsCountHitsMissesEventsAndMemory) {
  auto cal = make();
  ASSERT_TRUE(run(ex(), cal->store("paris", range("2026-05-01", "2026-05-05"), may3())));
  ASSERT_TRUE(run(ex(), cal->store("rome", range("2026-05-03", "2026-05-03"), may3())));
  ASSERT_TRUE(run(ex(), cal->get("paris", range("2026-05-02", "2026-05-03"))));
  ASSERT_TRUE(run(ex(), cal->get("paris", range("2026-05-02", "2026-05-09"))));
  ASSERT_TRUE(run(ex(), cal->get("rome", range("2026-05-03", "2026-05-03"))));
  auto s = run(ex(), cal->stats());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->hits, 2u);
  EXPECT_EQ(s->misses, 1u);
  EXPECT_NEAR(s->hit_rate(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(s->stores, 2u);
  EXPECT_EQ(s->events_stored, 10u);
  EXPECT_EQ(s->locations, 2u);
  EXPECT_EQ(s->sampled_locations, 2u);
  EXPECT_GT(s->sampled_bytes, 0u);
  EXPECT_GE(s->estimated_bytes, s->sampled_bytes / 2);
}

}  // namespace
}  // namespace tiercache::calendar
