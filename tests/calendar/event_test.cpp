// The calendar's values and their text forms: ISO-8601 days and instants (offsets, fractions,
// bad shapes), events to and from JSON (round trip, each bad field named), invalidation notices
// and daily summaries (round trip, refusals).

#include "tiercache/calendar/event.hpp"

#include "tiercache/calendar/date.hpp"
#include "tiercache/calendar/error.hpp"
#include "tiercache/calendar/notice.hpp"
#include "tiercache/calendar/summary.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace tiercache::calendar {
namespace {

namespace json = boost::json;
using namespace std::chrono;

TEST(DateTest, ParsesAndFormatsDays) {
  auto d = parse_day("2026-05-03");
  ASSERT_TRUE(d);
  EXPECT_EQ(format_day(*d), "2026-05-03");
  EXPECT_EQ(format_day(*parse_day("2028-02-29")), "2028-02-29");
  for (const char* bad : {"2026-02-30", "2026-13-01", "2026-5-3", "20260503", "2026-05-03x", "",
                          "1899-12-31", "abcd-ef-gh", "2026-05-03T00:00:00Z"}) {
    EXPECT_EQ(parse_day(bad).error(), Errc::invalid_date) << bad;
  }
}

TEST(DateTest, RangesAreInclusiveAndOrdered) {
  auto r = parse_range("2026-05-01", "2026-05-07");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->days(), 7);
  EXPECT_TRUE(r->contains(*parse_day("2026-05-07")));
  EXPECT_FALSE(r->contains(*parse_day("2026-05-08")));
  EXPECT_EQ(parse_range("2026-05-02", "2026-05-01").error(), Errc::invalid_range);
  EXPECT_EQ(parse_range("2026-05-02", "nope").error(), Errc::invalid_date);
}

TEST(DateTest, ParsesInstantsWithOffsetsAndFractions) {
  const auto utc = parse_time("2026-05-03T17:30:00Z");
  ASSERT_TRUE(utc);
  EXPECT_EQ(parse_time("2026-05-03T19:30:00+02:00").value(), *utc);
  EXPECT_EQ(parse_time("2026-05-03T12:30:00-05:00").value(), *utc);
  EXPECT_EQ(parse_time("2026-05-03 17:30").value(), *utc);
  EXPECT_EQ(parse_time("2026-05-03t17:30:00z").value(), *utc);
  EXPECT_EQ(parse_time("2026-05-03T17:30:00").value(), *utc);  // no suffix: UTC
  EXPECT_EQ(parse_time("2026-05-03T17:30:00.250Z").value(), *utc + 250ms);
  EXPECT_EQ(format_time(*utc + 250ms), "2026-05-03T17:30:00.250Z");
  EXPECT_EQ(format_time(*utc), "2026-05-03T17:30:00Z");
  EXPECT_EQ(parse_time("2026-05-03").value(), TimePoint(*parse_day("2026-05-03")));
  // Crossing midnight with an offset moves the day.
  EXPECT_EQ(format_day(day_of(parse_time("2026-05-03T01:00:00+02:00").value())), "2026-05-02");
  for (const char* bad :
       {"2026-05-03T25:00:00Z", "2026-05-03T17:60Z", "2026-05-03T17:30:00+2",
        "2026-05-03T17:30:00Zjunk", "2026-05-03T17", "2026-05-03T17:30:00.Z", "yesterday"}) {
    EXPECT_FALSE(parse_time(bad)) << bad;
  }
}

TEST(EventTest, RoundTripsThroughJson) {
  Event e;
  e.id = "e1";
  e.title = "Jazz night";
  e.start = parse_time("2026-05-03T19:30:00Z").value();
  e.end = parse_time("2026-05-03T23:00:00.5Z").value();
  e.location = "Le Duc des Lombards";
  e.categories = {"music", "jazz"};
  e.score = 87.5;
  e.details = json::object{{"price", 25}, {"tags", json::array{"live", "late"}}};
  const std::string text = json::serialize(to_json(e));
  auto back = event_from_json(json::parse(text));
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(*back, e);
  EXPECT_TRUE(e.on(*parse_day("2026-05-03")));
  EXPECT_FALSE(e.on(*parse_day("2026-05-04")));
}

TEST(EventTest, AnEventEndingAtMidnightDoesNotTouchTheNextDay) {
  Event e;
  e.id = "x";
  e.start = parse_time("2026-05-03T22:00:00Z").value();
  e.end = parse_time("2026-05-04T00:00:00Z").value();
  EXPECT_TRUE(e.on(*parse_day("2026-05-03")));
  EXPECT_FALSE(e.on(*parse_day("2026-05-04")));
  e.end = parse_time("2026-05-05T01:00:00Z").value();
  EXPECT_TRUE(e.on(*parse_day("2026-05-04")));
  EXPECT_TRUE(e.on(*parse_day("2026-05-05")));
}

TEST(EventTest, NamesTheBadField) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {R"([1])", "JSON object"},
      {R"({"start": "2026-05-03"})", "\"id\""},
      {R"({"id": "", "start": "2026-05-03"})", "\"id\""},
      {R"({"id": "a"})", "\"start\""},
      {R"({"id": "a", "start": "tomorrow"})", "\"start\" is not"},
      {R"({"id": "a", "start": "2026-05-03", "end": "2026-05-02"})", "before"},
      {R"({"id": "a", "start": "2026-05-03", "categories": "music"})", "categories"},
      {R"({"id": "a", "start": "2026-05-03", "categories": [1]})", "categories"},
      {R"({"id": "a", "start": "2026-05-03", "score": "high"})", "score"},
      {R"({"id": "a", "start": "2026-05-03", "details": [1]})", "details"},
      {R"({"id": "a", "start": "2026-05-03", "title": 7})", "title"},
  };
  for (const auto& c : cases) {
    std::string why;
    auto e = event_from_json(json::parse(c.text), &why);
    EXPECT_FALSE(e) << c.text;
    EXPECT_NE(why.find(c.says), std::string::npos) << c.text << " -> " << why;
  }
  std::string why;
  EXPECT_FALSE(events_from_json(json::parse(R"([{"id": "a", "start": "2026-05-03"}, {}])"), &why));
  EXPECT_NE(why.find("events[1]"), std::string::npos) << why;
}

TEST(NoticeTest, RoundTripsAndRefusesOtherText) {
  InvalidationNotice n{.kind = InvalidationNotice::Kind::range,
                       .prefix = "calendar",
                       .location = "paris",
                       .range = parse_range("2026-05-03", "2026-05-05").value(),
                       .at = parse_time("2026-05-01T10:00:00.123Z").value()};
  const std::string text = to_json_text(n);
  EXPECT_NE(text.find("\"type\":\"invalidate_range\""), std::string::npos) << text;
  EXPECT_EQ(parse_notice(text).value(), n);
  n.kind = InvalidationNotice::Kind::location;
  n.range.reset();
  EXPECT_EQ(parse_notice(to_json_text(n)).value(), n);
  for (const char* bad :
       {"", "{}", "[1]", R"({"type":"other","prefix":"p","location":"l","at":"2026-05-01"})",
        R"({"type":"invalidate_range","prefix":"p","location":"l","at":"2026-05-01"})"}) {
    EXPECT_FALSE(parse_notice(bad)) << bad;
  }
}

TEST(SummaryTest, CountsRanksAndRoundTrips) {
  const Day d = *parse_day("2026-05-03");
  std::vector<Event> events(4);
  events[0].id = "a";
  events[0].start = parse_time("2026-05-03T10:00:00Z").value();
  events[0].categories = {"music"};
  events[0].score = 5;
  events[1].id = "b";
  events[1].start = parse_time("2026-05-03T08:00:00Z").value();
  events[1].categories = {"music", "jazz"};
  events[1].score = 9;
  events[2].id = "c";
  events[2].start = parse_time("2026-05-03T21:00:00Z").value();
  events[2].score = 7;
  events[3].id = "other-day";
  events[3].start = parse_time("2026-05-04T10:00:00Z").value();
  events[3].score = 100;
  const auto now = parse_time("2026-05-01T00:00:00Z").value();
  const auto s = summarize("paris", d, events, 2, now);
  EXPECT_EQ(s.total, 3u);
  EXPECT_EQ(s.per_category.at("music"), 2u);
  EXPECT_EQ(s.per_category.at("jazz"), 1u);
  EXPECT_EQ(s.per_category.at(""), 1u);
  EXPECT_EQ(s.first_start, events[1].start);
  EXPECT_EQ(s.last_start, events[2].start);
  ASSERT_EQ(s.top.size(), 2u);
  EXPECT_EQ(s.top[0].id, "b");
  EXPECT_EQ(s.top[1].id, "c");
  auto back = summary_from_json(json::parse(json::serialize(to_json(s))));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_EQ(summary_from_json(json::parse("{}")).error(), Errc::corrupt_data);
}

}  // namespace
}  // namespace tiercache::calendar
