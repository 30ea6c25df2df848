#include "tiercache/cache/ttl_policy.hpp"

#include "tiercache/cache/error.hpp"

#include "tests/support/paths.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

// A clock whose wall time is `day` at `hour`:00 UTC.
struct FixedDay {
  explicit FixedDay(std::chrono::year_month_day day, std::chrono::hours hour = 15h) {
    const auto target = sys_days(day) + hour;
    clock.advance(target - clock.wall_now());
  }
  ManualClock clock;
};

constexpr auto today = std::chrono::year{2025} / 5 / 30;

sys_days in_days(int n) { return sys_days(today) + std::chrono::days(n); }

TEST(TtlPolicyTest, HasSeed004TableByDataType) {
  const FixedDay day(today);
  const auto policy = TtlPolicy::defaults(day.clock);
  const std::pair<const char*, milliseconds> table[] = {
      {"flight_search", 10min}, {"hotel_search", 30min},  {"activity_search", 1h},
      {"airport", 24h},         {"airline", 24h},         {"city", 7 * 24h},
      {"flight_details", 5min}, {"hotel_details", 15min}, {"user_preferences", 15min},
      {"weather", 1h},          {"exchange_rate", 1h},    {"something_else", 30min}};
  for (const auto& [type, ttl] : table) {
    EXPECT_EQ(policy.ttl_for(type), (Ttl{.fresh = ttl, .grace = ttl})) << type;
  }
}

TEST(TtlPolicyTest, FollowsSeed004FlightRules) {
  const FixedDay day(today);
  const auto policy = TtlPolicy::defaults(day.clock);
  const auto fresh = [&](std::optional<int> days, std::optional<std::size_t> results) {
    return policy
        .ttl_for("flight_search",
                 {.date = days ? std::optional(in_days(*days)) : std::nullopt, .results = results})
        .fresh;
  };
  EXPECT_EQ(fresh(2, std::nullopt), 5min);  // departing in 2 days: x0.5
  EXPECT_EQ(fresh(0, 20), 5min);
  EXPECT_EQ(fresh(-1, 20), 5min);       // in the past counts as near
  EXPECT_EQ(fresh(3, 20), 7min + 30s);  // within a week: x0.75
  EXPECT_EQ(fresh(6, 20), 7min + 30s);
  EXPECT_EQ(fresh(7, 20), 10min);
  EXPECT_EQ(fresh(90, 20), 10min);
  EXPECT_EQ(fresh(91, 20), 15min);        // more than 3 months: x1.5
  EXPECT_EQ(fresh(30, 4), 7min + 30s);    // fewer than 5 results: x0.75
  EXPECT_EQ(fresh(30, 51), 12min + 30s);  // more than 50: x1.25
  EXPECT_EQ(fresh(std::nullopt, 50), 10min);
  EXPECT_EQ(fresh(2, 3), 3min + 45s);  // both kinds multiply: x0.5 x0.75
}

TEST(TtlPolicyTest, FollowsSeed004HotelRules) {
  const FixedDay day(today);
  const auto policy = TtlPolicy::defaults(day.clock);
  const auto fresh = [&](int days, std::size_t results) {
    return policy.ttl_for("hotel_search", {.date = in_days(days), .results = results}).fresh;
  };
  EXPECT_EQ(fresh(6, 20), 18min);   // within a week: x0.6
  EXPECT_EQ(fresh(13, 20), 24min);  // within two weeks: x0.8
  EXPECT_EQ(fresh(30, 20), 30min);
  EXPECT_EQ(fresh(61, 20), 39min);  // more than 2 months: x1.3
  EXPECT_EQ(fresh(30, 9), 24min);   // fewer than 10 results: x0.8
}

TEST(TtlPolicyTest, FirstCombineStopsAtTheFirstMatchAsSeed004Does) {
  const FixedDay day(today);
  auto policy = TtlPolicy::defaults(day.clock);
  policy.set_combine(Combine::first);
  EXPECT_EQ(policy.ttl_for("flight_search", {.date = in_days(2), .results = 3}).fresh, 5min);
  EXPECT_EQ(policy.ttl_for("flight_search", {.date = in_days(30), .results = 3}).fresh, 7min + 30s);
}

TEST(TtlPolicyTest, CountsDaysFromTheClocksUtcDate) {
  FixedDay day(today, 23h);
  const auto policy = TtlPolicy::defaults(day.clock);
  EXPECT_EQ(policy.ttl_for("flight_search", {.date = in_days(3)}).fresh, 7min + 30s);
  day.clock.advance(2h);  // 01:00 the next day: the departure is now 2 days away
  EXPECT_EQ(policy.ttl_for("flight_search", {.date = in_days(3)}).fresh, 5min);
}

TEST(TtlPolicyTest, ClampsAndKeepsGraceUnscaled) {
  const FixedDay day(today);
  TtlPolicy policy(TypeTtl{.ttl = 30min}, day.clock);
  policy.set_type("quote", {.ttl = 10min, .grace = 2min, .min = 4min, .max = {}})
      .add_rule("quote", {.kind = RuleKind::date, .below = 3, .above = {}, .multiplier = 0.1})
      .add_rule("quote", {.kind = RuleKind::results, .below = {}, .above = 5, .multiplier = 100})
      .set_bounds(1min, 1h);
  EXPECT_EQ(policy.ttl_for("quote", {.date = in_days(1)}), (Ttl{.fresh = 4min, .grace = 2min}));
  EXPECT_EQ(policy.ttl_for("quote", {.results = 6}), (Ttl{.fresh = 1h, .grace = 2min}));
  policy.set_grace(5min);
  EXPECT_EQ(policy.ttl_for("other"), (Ttl{.fresh = 30min, .grace = 5min}));
}

TEST(TtlPolicyTest, ParsesDates) {
  EXPECT_EQ(parse_date("2025-06-01"), sys_days(std::chrono::year{2025} / 6 / 1));
  EXPECT_EQ(parse_date("2025-06-01T10:00:00Z"), sys_days(std::chrono::year{2025} / 6 / 1));
  for (const char* bad : {"", "2025-6-1", "2025-02-30", "2025/06/01", "2025-06-01x", "tomorrow"}) {
    EXPECT_FALSE(parse_date(bad)) << bad;
  }
}

TEST(TtlPolicyTest, LoadsTheExampleFileAsTheDefaults) {
  const FixedDay day(today);
  const std::filesystem::path repo = test::source_dir();
  auto loaded =
      TtlPolicy::from_toml_file((repo / "deploy" / "ttl-policy.example.toml").string(), day.clock);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const auto builtin = TtlPolicy::defaults(day.clock);
  for (const char* type : {"flight_search", "hotel_search", "city", "weather", "nothing"}) {
    for (int days = -2; days < 120; days += 1) {
      for (const std::size_t results : {0UL, 4UL, 9UL, 20UL, 51UL}) {
        const TtlInput in{.date = in_days(days), .results = results};
        ASSERT_EQ(loaded->ttl_for(type, in), builtin.ttl_for(type, in)) << type << days;
      }
    }
  }
}

TEST(TtlPolicyTest, ReadsDurationsAndShortForms) {
  auto p = TtlPolicy::from_toml(R"(
[ttl]
default = 90
grace = "1h30m"
[ttl.types]
a = "1d2h"
b = { ttl = "250ms", grace = "0s" }
)");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ttl_for("a"), (Ttl{.fresh = 26h, .grace = 90min}));
  EXPECT_EQ(p->ttl_for("b"), (Ttl{.fresh = 250ms, .grace = 0ms}));
  EXPECT_EQ(p->ttl_for("c"), (Ttl{.fresh = 90s, .grace = 90min}));
}

struct BadConfig {
  const char* text;
  const char* field;
  std::uint32_t line;
};

TEST(TtlPolicyTest, NamesTheFieldAndLineOfABadConfig) {
  const BadConfig cases[] = {
      {"[ttl]\ndefault = \"10x\"\n", "ttl.default", 2},
      {"[ttl]\ndefault = -5\n", "ttl.default", 2},
      {"[ttl]\ngrace = \"1m\"\n", "ttl.default", 1},
      {"[other]\n", "ttl", 1},
      {"[ttl]\ndefault = \"1m\"\ncombine = \"sum\"\n", "ttl.combine", 3},
      {"[ttl]\ndefault = \"1m\"\ndefualt = \"2m\"\n", "ttl.defualt", 3},
      {"[ttl]\ndefault = \"1m\"\nmin = \"2h\"\nmax = \"1h\"\n", "ttl.min", 1},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = { grace = \"1m\" }\n", "ttl.types.a.ttl", 4},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = { ttl = \"0s\" }\n", "ttl.types.a.ttl", 4},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = \"1m\"\n[[ttl.rules]]\ntype = \"b\"\n"
       "kind = \"date\"\nbelow = 3\nmultiplier = 0.5\n",
       "ttl.rules[0].type", 6},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = \"1m\"\n[[ttl.rules]]\ntype = \"a\"\n"
       "kind = \"date\"\nbelow = 3\nmultiplier = 0\n",
       "ttl.rules[0].multiplier", 9},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = \"1m\"\n[[ttl.rules]]\ntype = \"a\"\n"
       "kind = \"day\"\nbelow = 3\nmultiplier = 2\n",
       "ttl.rules[0].kind", 7},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = \"1m\"\n[[ttl.rules]]\ntype = \"a\"\n"
       "kind = \"date\"\nmultiplier = 2\n",
       "ttl.rules[0]", 5},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = \"1m\"\n[[ttl.rules]]\ntype = \"a\"\n"
       "kind = \"results\"\nbelow = 3\nabove = 9\nmultiplier = 2\n",
       "ttl.rules[0]", 5},
      {"[ttl]\ndefault = \"1m\"\n[ttl.types]\na = \"1m\"\n[[ttl.rules]]\ntype = \"a\"\n"
       "kind = \"date\"\nbelow = \"3\"\nmultiplier = 2\n",
       "ttl.rules[0].below", 8},
      {"[ttl]\ndefault = \"1m\"\nrules = 3\n", "ttl.rules", 3},
      {"[ttl]\ndefault = \"1m\n", "", 2},  // a TOML syntax error
  };
  for (const BadConfig& c : cases) {
    const auto r = TtlPolicy::from_toml(c.text, "t.toml");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().field, c.field) << c.text;
    EXPECT_EQ(r.error().line, c.line) << c.text << r.error().message;
    EXPECT_EQ(r.error().code, Errc::invalid_config);
    EXPECT_EQ(r.error().message.rfind("t.toml:" + std::to_string(c.line) + ":", 0), 0U)
        << r.error().message;
  }
  EXPECT_THROW((void)TtlPolicy::from_toml("[ttl]\n").value(), std::runtime_error);
}

TEST(TtlPolicyTest, ReportsAMissingFile) {
  const auto r = TtlPolicy::from_toml_file("/nonexistent/ttl.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_config);
  EXPECT_NE(r.error().message.find("/nonexistent/ttl.toml"), std::string::npos);
}

TEST(TtlPolicyTest, RefusesBadProgrammaticSettings) {
  TtlPolicy p(TypeTtl{.ttl = 1min});
  EXPECT_THROW(p.set_type("a", {.ttl = 0ms}), std::invalid_argument);
  EXPECT_THROW(p.add_rule("a", {.kind = RuleKind::date, .below = {}, .above = {}, .multiplier = 1}),
               std::invalid_argument);
  EXPECT_THROW(p.add_rule("a", {.kind = RuleKind::date, .below = 1, .above = {}, .multiplier = 0}),
               std::invalid_argument);
  EXPECT_THROW(p.set_bounds(2min, 1min), std::invalid_argument);
  EXPECT_THROW(TtlPolicy(TypeTtl{.ttl = -1s}), std::invalid_argument);
}

}  // namespace
}  // namespace tiercache::cache
