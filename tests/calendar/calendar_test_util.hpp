#pragma once
// Helpers shared by the calendar tests: a fixture with a private redis-server, two-thread io and a
// manual clock; events and days written briefly; and the cache tests' run/eventually.

#include "tiercache/calendar/calendar_cache.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tiercache::calendar::test {

using namespace std::chrono_literals;
using tiercache::test::eventually;
using tiercache::test::run;

inline Day day(std::string_view text) { return parse_day(text).value(); }
inline DateRange range(std::string_view from, std::string_view to) {
  return parse_range(from, to).value();
}

// An event on `start` (ISO-8601), an instant unless `end` is given.
inline Event event(std::string id, std::string_view start, std::vector<std::string> categories = {},
                   double score = 0.0, std::string_view end = {}) {
  Event e;
  e.id = id;
  e.title = "title of " + id;
  e.start = parse_time(start).value();
  if (!end.empty()) e.end = parse_time(end).value();
  e.categories = std::move(categories);
  e.score = score;
  return e;
}

inline std::vector<std::string> ids(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

class CalendarFixture : public ::testing::Test {
 protected:
  std::unique_ptr<CalendarCache> make(Options options = {}) {
    options.clock = &clock_;
    auto cal = std::make_unique<CalendarCache>(
        tiercache::test::tracking_client(io_.executor(), server_), options);
    EXPECT_TRUE(eventually([&] { return cal->tracking(); }));
    return cal;
  }
  asio::any_io_executor ex() { return io_.executor(); }
  std::string cli(const std::vector<std::string>& args) { return server_.cli(args); }
  // The Redis key of a cache entry (its namespace version is the server's time: decision 0012),
  // found by redis-cli --scan; empty when there is none.
  std::string entry_key(const std::string& key) {
    return server_.cli({"--scan", "--pattern", "calendar:v*:" + key});
  }

  ManualClock clock_;
  tiercache::test::RedisServer server_;
  tiercache::test::IoThreads io_{2};
};

}  // namespace tiercache::calendar::test
