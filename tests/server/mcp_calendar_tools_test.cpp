// The calendar tools through MCP over HTTP on a daemon with a real redis-server: every tool with
// valid arguments (range coverage, misses naming their days, rankings, history order, daily
// summaries refreshed by stores, invalidation, stats, warming through the proxy from the demo
// upstream) and with invalid ones (an error result that says what is expected, nothing stored);
// and without Redis, or without a warm route, an error that says so.

#include "tests/server/demo_upstream.hpp"
#include "tests/server/mcp_client.hpp"
#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tiercache::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The tool-calling helpers of both fixtures.
class CalendarCalls {
 public:
  explicit CalendarCalls(std::uint16_t port) : mcp_(port) { mcp_.initialize(); }

  json::object call(const std::string& tool, const std::string& args) {
    return mcp_.call_tool(tool, json::parse(args).as_object());
  }
  std::string error(const std::string& tool, const std::string& args) {
    const auto r = call(tool, args);
    EXPECT_EQ(r.at("isError"), json::value(true)) << tool << " " << args;
    return McpHttpClient::text_of(r);
  }
  json::object ok(const std::string& tool, const std::string& args) {
    const auto r = call(tool, args);
    EXPECT_EQ(r.at("isError"), json::value(false)) << tool << " " << McpHttpClient::text_of(r);
    const auto* s = r.if_contains("structuredContent");
    return s != nullptr && s->is_object() ? s->as_object() : json::object{};
  }
  McpHttpClient& mcp() { return mcp_; }

 private:
  McpHttpClient mcp_;
};

std::vector<std::string> ids_of(const json::value& events) {
  std::vector<std::string> out;
  for (const auto& e : events.as_array()) out.emplace_back(e.at("id").as_string());
  return out;
}

std::vector<std::string> strings_of(const json::value& list) {
  std::vector<std::string> out;
  for (const auto& s : list.as_array()) out.emplace_back(s.as_string());
  return out;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Paris, 1-3 May: a concert and a market on the 1st, a play on the 2nd, nothing on the 3rd.
constexpr const char* kParisFirst = R"({"location": "Paris", "from": "2026-05-01",
    "to": "2026-05-03", "events": [
      {"id": "p1", "title": "Jazz night", "start": "2026-05-01T20:00:00Z", "categories": ["music"],
       "score": 40},
      {"id": "p2", "title": "Market", "start": "2026-05-01T08:00:00Z", "categories": ["food"],
       "score": 90},
      {"id": "p3", "title": "Play", "start": "2026-05-02T19:00:00Z", "categories": ["theatre"],
       "score": 10}]})";
// Paris, 4-7 May: one festival on the 5th.
constexpr const char* kParisSecond = R"({"location": "paris", "from": "2026-05-04",
    "to": "2026-05-07", "ttl": "6h", "priority": "high", "events": [
      {"id": "p4", "title": "Festival", "start": "2026-05-05T12:00:00Z",
       "end": "2026-05-05T23:00:00Z", "categories": ["music"], "score": 70,
       "details": {"price": "free"}}]})";

class McpCalendarToolsTest : public ::testing::Test {
 protected:
  McpCalendarToolsTest() : daemon_(config()), calls_(daemon_.port()) {}

  Config config() {
    Config c = with_redis(redis_);
    c.proxy.routes.push_back({.name = "events",
                              .prefix = "/events",
                              .upstream = upstream_.url("/events"),
                              .ns = "proxy.events",
                              .data_type = "events",
                              .ttl = 1h});
    c.calendar.warm_route = "events";
    return c;
  }
  json::object ok(const std::string& tool, const std::string& args) {
    return calls_.ok(tool, args);
  }
  std::string error(const std::string& tool, const std::string& args) {
    return calls_.error(tool, args);
  }

  RedisServer redis_;
  DemoUpstream upstream_{5ms};
  DaemonUnderTest daemon_;
  CalendarCalls calls_;
};

TEST_F(McpCalendarToolsTest, ListsTheEightCalendarToolsWithSchemas) {
  const auto tools = calls_.mcp().request("tools/list", {}).at("result").at("tools").as_array();
  std::vector<std::string> names;
  for (const auto& t : tools) {
    const std::string name(t.at("name").as_string());
    if (!name.starts_with("calendar_")) continue;
    names.push_back(name);
    EXPECT_EQ(t.at("inputSchema").at("type"), json::value("object")) << name;
    EXPECT_EQ(t.at("inputSchema").at("additionalProperties"), json::value(false)) << name;
    EXPECT_TRUE(t.at("outputSchema").is_object()) << name;
    EXPECT_GT(t.at("description").as_string().size(), 150u) << name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"calendar_store_events", "calendar_get_events",
                                             "calendar_top_events", "calendar_invalidate",
                                             "calendar_history", "calendar_daily_summary",
                                             "calendar_stats", "calendar_warm"}));
}

TEST_F(McpCalendarToolsTest, AGetIsAnsweredFromTheStoredRangesThatCoverIt) {
  auto stored = ok("calendar_store_events", kParisFirst);
  EXPECT_EQ(stored.at("location"), json::value("paris"));
  EXPECT_EQ(stored.at("stored"), json::value(3));
  EXPECT_EQ(stored.at("ttl_ms"), json::value(24 * 3600 * 1000));
  stored = ok("calendar_store_events", kParisSecond);
  EXPECT_EQ(stored.at("ttl_ms"), json::value(6 * 3600 * 1000));

  // 2-5 May lies across both stores.
  auto got = ok("calendar_get_events",
                R"({"location": "  PARIS ", "from": "2026-05-02", "to": "2026-05-05"})");
  EXPECT_EQ(got.at("hit"), json::value(true));
  EXPECT_EQ(ids_of(got.at("events")), (std::vector<std::string>{"p3", "p4"}));
  EXPECT_EQ(got.at("count"), json::value(2));
  EXPECT_FALSE(got.contains("missing_days"));
  const auto& festival = got.at("events").at(1);
  EXPECT_EQ(festival.at("end"), json::value("2026-05-05T23:00:00Z"));
  EXPECT_EQ(festival.at("details").at("price"), json::value("free"));

  // A day with nothing stored as nothing is a hit too; categories filter.
  got = ok("calendar_get_events",
           R"({"location": "paris", "from": "2026-05-03", "to": "2026-05-03"})");
  EXPECT_EQ(got.at("hit"), json::value(true));
  EXPECT_TRUE(got.at("events").as_array().empty());
  got = ok("calendar_get_events", R"({"location": "paris", "from": "2026-05-01",
      "to": "2026-05-07", "categories": ["music"]})");
  EXPECT_EQ(got.at("hit"), json::value(true));
  EXPECT_EQ(ids_of(got.at("events")), (std::vector<std::string>{"p1", "p4"}));
}

TEST_F(McpCalendarToolsTest, AMissNamesTheMissingDays) {
  ok("calendar_store_events", kParisFirst);
  const auto got = ok("calendar_get_events",
                      R"({"location": "Paris", "from": "2026-04-30", "to": "2026-05-05"})");
  EXPECT_EQ(got.at("hit"), json::value(false));
  EXPECT_EQ(strings_of(got.at("missing_days")),
            (std::vector<std::string>{"2026-04-30", "2026-05-04", "2026-05-05"}));
  EXPECT_FALSE(got.contains("events"));
  EXPECT_TRUE(contains(std::string(got.at("hint").as_string()), "calendar_store_events"));
  // A store of only some categories does not answer a query for all of them.
  ok("calendar_store_events", R"({"location": "Lyon", "from": "2026-05-01", "to": "2026-05-01",
      "categories": ["music"], "events": [{"id": "l1", "start": "2026-05-01T20:00:00Z",
      "categories": ["music"]}]})");
  EXPECT_EQ(
      ok("calendar_get_events", R"({"location": "lyon", "from": "2026-05-01", "to": "2026-05-01"})")
          .at("hit"),
      json::value(false));
  EXPECT_EQ(ok("calendar_get_events", R"({"location": "lyon", "from": "2026-05-01",
      "to": "2026-05-01", "categories": ["music"]})")
                .at("hit"),
            json::value(true));
}

TEST_F(McpCalendarToolsTest, TopEventsRankByStartOrScore) {
  ok("calendar_store_events", R"({"location": "Nice", "from": "2026-06-01", "to": "2026-06-01",
      "events": [
        {"id": "a", "start": "2026-06-01T10:00:00Z", "score": 5},
        {"id": "b", "start": "2026-06-01T08:00:00Z", "score": 50},
        {"id": "c", "start": "2026-06-01T12:00:00Z", "score": 99},
        {"id": "d", "start": "2026-06-01T09:00:00Z", "score": 1}]})");
  auto top = ok("calendar_top_events", R"({"location": "nice", "day": "2026-06-01", "n": 3})");
  EXPECT_EQ(top.at("by"), json::value("start"));
  EXPECT_EQ(top.at("covered"), json::value(true));
  EXPECT_EQ(ids_of(top.at("events")), (std::vector<std::string>{"b", "d", "a"}));
  top = ok("calendar_top_events",
           R"({"location": "nice", "day": "2026-06-01", "n": 2, "by": "score"})");
  EXPECT_EQ(ids_of(top.at("events")), (std::vector<std::string>{"c", "b"}));
  top = ok("calendar_top_events", R"({"location": "nice", "day": "2026-06-02", "n": 2})");
  EXPECT_EQ(top.at("covered"), json::value(false));
  EXPECT_TRUE(top.at("events").as_array().empty());
}

TEST_F(McpCalendarToolsTest, HistoryIsOldestFirstAndLimited) {
  ok("calendar_store_events", kParisFirst);
  ok("calendar_store_events", kParisSecond);
  ok("calendar_invalidate", R"({"location": "paris", "from": "2026-05-02", "to": "2026-05-02"})");
  auto h = ok("calendar_history", R"({"location": "Paris"})");
  EXPECT_EQ(h.at("count"), json::value(3));
  const auto& entries = h.at("entries").as_array();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].at("op"), json::value("store"));
  EXPECT_EQ(entries[0].at("from"), json::value("2026-05-01"));
  EXPECT_EQ(entries[0].at("events"), json::value(3));
  EXPECT_EQ(entries[1].at("op"), json::value("store"));
  EXPECT_EQ(entries[1].at("from"), json::value("2026-05-04"));
  EXPECT_EQ(strings_of(entries[1].at("event_ids")), (std::vector<std::string>{"p4"}));
  EXPECT_EQ(entries[2].at("op"), json::value("invalidate_range"));
  h = ok("calendar_history", R"({"location": "paris", "limit": 2})");
  ASSERT_EQ(h.at("entries").as_array().size(), 2u);
  EXPECT_EQ(h.at("entries").at(1).at("from"), json::value("2026-05-04"));
  h = ok("calendar_history", R"({"location": "paris", "until": "2000-01-01"})");
  EXPECT_EQ(h.at("count"), json::value(0));
  h = ok("calendar_history", R"({"location": "nowhere"})");
  EXPECT_EQ(h.at("count"), json::value(0));
}

TEST_F(McpCalendarToolsTest, DailySummaryChangesAfterAStore) {
  auto s = ok("calendar_daily_summary", R"({"location": "paris", "day": "2026-05-01"})");
  EXPECT_EQ(s.at("found"), json::value(false));
  ok("calendar_store_events", kParisFirst);
  s = ok("calendar_daily_summary", R"({"location": "paris", "day": "2026-05-01"})");
  ASSERT_EQ(s.at("found"), json::value(true));
  EXPECT_EQ(s.at("summary").at("total"), json::value(2));
  EXPECT_EQ(s.at("summary").at("top").at(0).at("id"), json::value("p2"));
  // The day stored again with one more event: the summary follows.
  ok("calendar_store_events", R"({"location": "paris", "from": "2026-05-01", "to": "2026-05-01",
      "events": [
        {"id": "p1", "start": "2026-05-01T20:00:00Z", "categories": ["music"], "score": 40},
        {"id": "p2", "start": "2026-05-01T08:00:00Z", "categories": ["food"], "score": 90},
        {"id": "p9", "start": "2026-05-01T22:00:00Z", "categories": ["music"], "score": 95}]})");
  s = ok("calendar_daily_summary", R"({"location": "paris", "day": "2026-05-01"})");
  EXPECT_EQ(s.at("summary").at("total"), json::value(3));
  EXPECT_EQ(s.at("summary").at("per_category").at("music"), json::value(2));
  EXPECT_EQ(s.at("summary").at("top").at(0).at("id"), json::value("p9"));
}

TEST_F(McpCalendarToolsTest, InvalidationStopsAnswers) {
  ok("calendar_store_events", kParisFirst);
  ok("calendar_store_events", kParisSecond);
  auto r = ok("calendar_invalidate",
              R"({"location": "Paris", "from": "2026-05-02", "to": "2026-05-04"})");
  EXPECT_EQ(r.at("invalidated"), json::value("range"));
  auto got = ok("calendar_get_events",
                R"({"location": "paris", "from": "2026-05-01", "to": "2026-05-07"})");
  EXPECT_EQ(got.at("hit"), json::value(false));
  EXPECT_EQ(strings_of(got.at("missing_days")),
            (std::vector<std::string>{"2026-05-02", "2026-05-03", "2026-05-04"}));
  EXPECT_EQ(ok("calendar_get_events",
               R"({"location": "paris", "from": "2026-05-05", "to": "2026-05-07"})")
                .at("hit"),
            json::value(true));
  r = ok("calendar_invalidate", R"({"location": "paris"})");
  EXPECT_EQ(r.at("invalidated"), json::value("location"));
  got = ok("calendar_get_events",
           R"({"location": "paris", "from": "2026-05-05", "to": "2026-05-07"})");
  EXPECT_EQ(got.at("hit"), json::value(false));
  EXPECT_EQ(ok("calendar_top_events", R"({"location": "paris", "day": "2026-05-05", "n": 5})")
                .at("covered"),
            json::value(false));
}

TEST_F(McpCalendarToolsTest, StatsCountWhatTheToolsDid) {
  ok("calendar_store_events", kParisFirst);
  ok("calendar_get_events", R"({"location": "paris", "from": "2026-05-01", "to": "2026-05-02"})");
  ok("calendar_get_events", R"({"location": "paris", "from": "2026-05-01", "to": "2026-05-09"})");
  const auto s = ok("calendar_stats", "{}");
  EXPECT_EQ(s.at("hits"), json::value(1));
  EXPECT_EQ(s.at("misses"), json::value(1));
  EXPECT_DOUBLE_EQ(s.at("hit_rate").as_double(), 0.5);
  EXPECT_EQ(s.at("stores"), json::value(1));
  EXPECT_EQ(s.at("events_stored"), json::value(3));
  EXPECT_EQ(s.at("locations"), json::value(1));
  EXPECT_GT(s.at("estimated_bytes").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(s.at("invalidation_channel"), json::value("tiercache:calendar:invalidations"));
  ASSERT_FALSE(s.at("popular_locations").as_array().empty());
  EXPECT_EQ(s.at("popular_locations").at(0).at("location"), json::value("paris"));
  EXPECT_NE(error("calendar_stats", R"({"verbose": true})").find("unknown argument 'verbose'"),
            std::string::npos);
}

TEST_F(McpCalendarToolsTest, WarmLoadsOnlyTheMostAskedLocationsThroughTheProxy) {
  const auto ask = [&](const char* location, int times) {
    for (int i = 0; i < times; ++i) {
      ok("calendar_get_events", std::string(R"({"location": ")") + location +
                                    R"(", "from": "2026-07-01", "to": "2026-07-02"})");
    }
  };
  ask("Berlin", 3);
  ask("Rome", 2);
  ask("Oslo", 1);
  const auto w = ok("calendar_warm", R"({"n": 2, "from": "2026-07-01", "to": "2026-07-02"})");
  EXPECT_EQ(strings_of(w.at("loaded")), (std::vector<std::string>{"berlin", "rome"}));
  EXPECT_TRUE(w.at("failed").as_array().empty()) << json::serialize(w);
  EXPECT_GE(w.at("events_stored").to_number<std::int64_t>(), 2 * 2 * 3);
  // One upstream request per location and day, through the proxy (so cached there too).
  EXPECT_EQ(upstream_.requests("/events"), 4);
  auto got = ok("calendar_get_events",
                R"({"location": "berlin", "from": "2026-07-01", "to": "2026-07-02"})");
  EXPECT_EQ(got.at("hit"), json::value(true));
  EXPECT_GE(got.at("events").as_array().size(), 6u);
  EXPECT_EQ(got.at("events").at(0).at("categories").as_array().size(), 1u);
  EXPECT_EQ(
      ok("calendar_get_events", R"({"location": "oslo", "from": "2026-07-01", "to": "2026-07-02"})")
          .at("hit"),
      json::value(false));
  // Again: both are covered now, so nothing is asked upstream.
  const auto again = ok("calendar_warm", R"({"n": 2, "from": "2026-07-01", "to": "2026-07-02"})");
  EXPECT_TRUE(again.at("loaded").as_array().empty());
  EXPECT_EQ(again.at("skipped").as_array().size(), 2u);
  EXPECT_EQ(upstream_.requests("/events"), 4);
  // An upstream failure is reported per location, with the reason.
  upstream_.set_status(503);
  const auto failed = ok("calendar_warm", R"({"n": 3, "from": "2026-08-01", "to": "2026-08-01"})");
  ASSERT_FALSE(failed.at("failed").as_array().empty());
  EXPECT_TRUE(
      contains(std::string(failed.at("failed").at(0).at("error").as_string()), "answered 5"))
      << json::serialize(failed);
  upstream_.set_status(0);
}

TEST_F(McpCalendarToolsTest, BadArgumentsSayWhatIsExpectedAndStoreNothing) {
  // calendar_store_events
  EXPECT_TRUE(
      contains(error("calendar_store_events",
                     R"({"location": "x", "from": "1 May", "to": "2026-05-02", "events": []})"),
               "'from' is \"1 May\", not a date: write YYYY-MM-DD"));
  EXPECT_TRUE(contains(
      error("calendar_store_events",
            R"({"location": "x", "from": "2026-05-03", "to": "2026-05-02", "events": []})"),
      "is before 'from'"));
  EXPECT_TRUE(contains(
      error("calendar_store_events",
            R"({"location": "x", "from": "2026-01-01", "to": "2027-12-31", "events": []})"),
      "at most 366"));
  EXPECT_TRUE(contains(error("calendar_store_events",
                             R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01",
                                 "events": [{"id": "e", "start": "tonight"}]})"),
                       "'events'"));
  EXPECT_TRUE(contains(error("calendar_store_events",
                             R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01",
                                 "events": [{"id": "e", "start": "2026-06-01T10:00:00Z"}]})"),
                       "nothing was stored"));
  EXPECT_TRUE(contains(error("calendar_store_events",
                             R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01",
                                 "events": [{"id": "e", "start": "2026-05-01T10:00:00Z"},
                                            {"id": "e", "start": "2026-05-01T11:00:00Z"}]})"),
                       "nothing was stored"));
  EXPECT_TRUE(contains(error("calendar_store_events",
                             R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01",
                                 "ttl": "forever", "events": []})"),
                       "'ttl' is \"forever\""));
  EXPECT_TRUE(contains(error("calendar_store_events",
                             R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01",
                                 "priority": "urgent", "events": []})"),
                       "priority"));
  EXPECT_TRUE(contains(error("calendar_store_events",
                             R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01"})"),
                       "missing required argument 'events'"));
  EXPECT_TRUE(contains(
      error("calendar_store_events",
            R"({"location": "   ", "from": "2026-05-01", "to": "2026-05-01", "events": []})"),
      "'location' must be a place name"));
  // Nothing of the above was stored.
  EXPECT_EQ(
      ok("calendar_get_events", R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01"})")
          .at("hit"),
      json::value(false));
  EXPECT_EQ(ok("calendar_stats", "{}").at("stores"), json::value(0));

  // The others.
  EXPECT_TRUE(contains(error("calendar_get_events",
                             R"({"location": "x", "from": "2026-02-30", "to": "2026-03-01"})"),
                       "'from' is \"2026-02-30\", not a date"));
  EXPECT_TRUE(contains(error("calendar_get_events", R"({"location": "x", "from": "2026-05-01"})"),
                       "missing required argument 'to'"));
  EXPECT_TRUE(
      contains(error("calendar_top_events", R"({"location": "x", "day": "2026-05-01", "n": 0})"),
               "n must be >= 1"));
  EXPECT_TRUE(contains(error("calendar_top_events",
                             R"({"location": "x", "day": "2026-05-01", "n": 3, "by": "fame"})"),
                       "by must be one of"));
  EXPECT_TRUE(contains(error("calendar_invalidate", R"({"location": "x", "from": "2026-05-01"})"),
                       "give both 'from' and 'to'"));
  EXPECT_TRUE(contains(error("calendar_history", R"({"location": "x", "since": "yesterday"})"),
                       "'since' is \"yesterday\", not an ISO-8601 instant"));
  EXPECT_TRUE(contains(error("calendar_history", R"({"location": "x", "limit": 0})"),
                       "limit must be >= 1"));
  EXPECT_TRUE(contains(error("calendar_daily_summary", R"({"location": "x", "day": "05/01/2026"})"),
                       "not a date"));
  EXPECT_TRUE(
      contains(error("calendar_warm", R"({"n": 2, "from": "2026-05-01", "to": "2026-07-01"})"),
               "at most 31"));
  EXPECT_TRUE(
      contains(error("calendar_warm", R"({"n": 0, "from": "2026-05-01", "to": "2026-05-01"})"),
               "n must be >= 1"));
}

// Without Redis: every calendar tool answers an error that says the calendar needs it.
TEST(McpCalendarToolsWithoutRedisTest, EveryToolSaysTheCalendarNeedsRedis) {
  DaemonUnderTest daemon(test_config());
  CalendarCalls calls(daemon.port());
  const std::pair<const char*, const char*> cases[] = {
      {"calendar_store_events",
       R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01", "events": []})"},
      {"calendar_get_events", R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01"})"},
      {"calendar_top_events", R"({"location": "x", "day": "2026-05-01", "n": 1})"},
      {"calendar_invalidate", R"({"location": "x"})"},
      {"calendar_history", R"({"location": "x"})"},
      {"calendar_daily_summary", R"({"location": "x", "day": "2026-05-01"})"},
      {"calendar_stats", "{}"},
      {"calendar_warm", R"({"n": 1, "from": "2026-05-01", "to": "2026-05-01"})"},
  };
  for (const auto& [tool, args] : cases) {
    const auto text = calls.error(tool, args);
    EXPECT_TRUE(contains(text, "the calendar is not available")) << text;
    EXPECT_TRUE(contains(text, "without Redis")) << text;
  }
}

// With Redis but no warm_route: calendar_warm says what to configure; the others work.
TEST(McpCalendarToolsNoWarmRouteTest, WarmSaysNoSourceIsConfigured) {
  RedisServer redis;
  DaemonUnderTest daemon(with_redis(redis));
  CalendarCalls calls(daemon.port());
  const auto text =
      calls.error("calendar_warm", R"({"n": 1, "from": "2026-05-01", "to": "2026-05-01"})");
  EXPECT_TRUE(contains(text, "warm_route")) << text;
  calls.ok("calendar_store_events",
           R"({"location": "x", "from": "2026-05-01", "to": "2026-05-01", "events": []})");
}

// [calendar] enabled = false: the tools say so.
TEST(McpCalendarToolsDisabledTest, ToolsSayTheCalendarIsOff) {
  RedisServer redis;
  Config c = with_redis(redis);
  c.calendar.enabled = false;
  DaemonUnderTest daemon(c);
  CalendarCalls calls(daemon.port());
  EXPECT_TRUE(contains(calls.error("calendar_stats", "{}"), "enabled = false"));
}

}  // namespace
}  // namespace tiercache::test
