// Config: TOML, environment and flags; errors name the field and the line.

#include "server/config.hpp"

#include "server/command_line.hpp"
#include "server/units.hpp"
#include "tests/support/paths.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace tiercache::server {
namespace {

using namespace std::chrono_literals;

// The ConfigError's message when `text` is loaded; "" when it loads.
std::string error_of(const std::string& text) {
  try {
    load_config(text, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ConfigTest, DefaultsAreSafe) {
  const Config c = load_config("", "empty.toml");
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_FALSE(c.redis.has_value());
  EXPECT_TRUE(c.admin_token.empty());
  EXPECT_FALSE(c.allow_unlisted_namespaces);
}

TEST(ConfigTest, ReadsEveryTable) {
  const Config c = load_config(R"(
[server]
listen = "0.0.0.0:9000"
threads = 4
admin_token = "0123456789abcdef"
access_log = "off"
slow_request = "250ms"

[limits]
max_header_bytes = "32KiB"
max_body_bytes = "4MiB"
idle_timeout = "2m"
drain_timeout = "0s"

[redis]
url = "redis://:pw@10.0.0.5:6380/2"

[cache]
allow_unlisted_namespaces = true
max_namespaces = 10
[cache.defaults]
default_ttl = "10m"

[namespaces.flights]
default_ttl = "2m"
max_ttl = "1h"
l1_bytes = "16MiB"

[namespaces.users]

[ratelimits.search]
limit = 20
window = "1m"
algorithm = "token_bucket"
max_batch = 16
max_in_flight = 1
)",
                               "full.toml");
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.slow_request, 250ms);
  EXPECT_EQ(c.limits.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.limits.max_body_bytes, 4u << 20);
  EXPECT_EQ(c.limits.idle_timeout, 2min);
  EXPECT_EQ(c.limits.drain_timeout, 0ms);
  ASSERT_TRUE(c.redis.has_value());
  EXPECT_EQ(c.redis->host, "10.0.0.5");
  EXPECT_EQ(c.redis->port, 6380);
  EXPECT_EQ(c.redis->database, 2);
  ASSERT_EQ(c.namespaces.size(), 2u);
  EXPECT_EQ(c.namespaces[0].name, "flights");
  EXPECT_EQ(c.namespaces[0].default_ttl, 2min);
  EXPECT_EQ(c.namespaces[0].l1_bytes, 16u << 20);
  // A listed namespace starts from cache.defaults.
  EXPECT_EQ(c.namespaces[1].default_ttl, 10min);
  ASSERT_EQ(c.rate_limits.size(), 1u);
  EXPECT_EQ(c.rate_limits[0].algorithm, "token_bucket");
  EXPECT_EQ(c.rate_limits[0].max_batch, 16u);
  EXPECT_EQ(c.rate_limits[0].max_in_flight, 1u);
  ASSERT_TRUE(c.find_namespace("other").has_value());
  EXPECT_EQ(c.find_namespace("other")->default_ttl, 10min);
}

TEST(ConfigTest, UnknownKeysNameTheFieldAndTheLine) {
  const auto e = error_of("[server]\nlisten = \"127.0.0.1:1\"\nlissten = \"x\"\n");
  EXPECT_NE(e.find("test.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("server.lissten"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  const auto top = error_of("\n\n[sever]\nx = 1\n");
  EXPECT_NE(top.find("test.toml:3:"), std::string::npos) << top;
  EXPECT_NE(top.find("sever"), std::string::npos) << top;
  const auto ns = error_of("[namespaces.users]\ndefualt_ttl = \"1m\"\n");
  EXPECT_NE(ns.find("test.toml:2:"), std::string::npos) << ns;
  EXPECT_NE(ns.find("namespaces.users.defualt_ttl"), std::string::npos) << ns;
}

TEST(ConfigTest, BadValuesNameTheFieldAndTheLine) {
  struct Case {
    std::string text;
    std::string field;
    int line;
  };
  const Case cases[] = {
      {"[limits]\n\nread_timeout = \"-5s\"\n", "limits.read_timeout", 3},
      {"[limits]\nmax_body_bytes = \"lots\"\n", "limits.max_body_bytes", 2},
      {"[server]\nlisten = \"nohost\"\n", "server.listen", 2},
      {"[server]\nthreads = -1\n", "server.threads", 2},
      {"[server]\nadmin_token = \"short\"\n", "server.admin_token", 2},
      {"[server]\nlog_level = \"loud\"\n", "server.log_level", 2},
      {"[server]\n\nslow_request = \"-1s\"\n", "server.slow_request", 3},
      {"[redis]\nurl = \"redis://host:99999\"\n", "redis.url", 2},
      {"[namespaces.\"bad name\"]\n", "namespaces.bad name", 1},
      {"[namespaces.a]\ndefault_ttl = \"2d\"\nmax_ttl = \"1d\"\n", "namespaces.a.default_ttl", 2},
      {"[ratelimits.s]\nalgorithm = \"magic\"\n", "ratelimits.s.algorithm", 2},
      {"[ratelimits.s]\nmax_batch = 0\n", "ratelimits.s.max_batch", 2},
      {"[ratelimits.s]\nmax_in_flight = 17\n", "ratelimits.s.max_in_flight", 2},
      {"[cache]\nmax_namespaces = 0\n", "cache.max_namespaces", 2},
  };
  for (const auto& c : cases) {
    const auto e = error_of(c.text);
    EXPECT_NE(e.find("test.toml:" + std::to_string(c.line) + ":"), std::string::npos) << e;
    EXPECT_NE(e.find(c.field), std::string::npos) << e;
  }
}

TEST(ConfigTest, CalendarTableDefaultsAndValues) {
  const Config d = load_config("", "empty.toml");
  EXPECT_TRUE(d.calendar.enabled);
  EXPECT_EQ(d.calendar.prefix, "calendar");
  EXPECT_EQ(d.calendar.default_ttl, 24h);
  EXPECT_EQ(d.calendar.cleanup_interval, 1min);
  EXPECT_TRUE(d.calendar.warm_route.empty());

  const Config c = load_config(R"(
[proxy.routes.events]
upstream = "http://127.0.0.1:9090/events"

[calendar]
enabled = false
prefix = "cal.events"
default_ttl = "6h"
cleanup_interval = "30s"
warm_route = "events"
)",
                               "calendar.toml");
  EXPECT_FALSE(c.calendar.enabled);
  EXPECT_EQ(c.calendar.prefix, "cal.events");
  EXPECT_EQ(c.calendar.default_ttl, 6h);
  EXPECT_EQ(c.calendar.cleanup_interval, 30s);
  EXPECT_EQ(c.calendar.warm_route, "events");
}

TEST(ConfigTest, BadCalendarValuesNameTheField) {
  struct Case {
    std::string text;
    std::string field;
    int line;  // 0: found by validate(), no line
  };
  const Case cases[] = {
      {"[calendar]\nprefix = \"a b\"\n", "calendar.prefix", 2},
      {"[calendar]\nprefix = \"cal*\"\n", "calendar.prefix", 2},
      {"[calendar]\nprefix = \"\"\n", "calendar.prefix", 2},
      {"[calendar]\n\ndefault_ttl = \"31d\"\n", "calendar.default_ttl", 3},
      {"[calendar]\ndefault_ttl = \"soon\"\n", "calendar.default_ttl", 2},
      {"[calendar]\ncleanup_interval = \"10ms\"\n", "calendar.cleanup_interval", 2},
      {"[calendar]\nenabled = \"yes\"\n", "calendar.enabled", 2},
      {"[calendar]\nwarm_rout = \"events\"\n", "calendar.warm_rout", 2},
      {"[calendar]\nwarm_route = \"events\"\n", "calendar.warm_route", 0},
  };
  for (const auto& c : cases) {
    const auto e = error_of(c.text);
    EXPECT_FALSE(e.empty()) << c.text;
    if (c.line > 0) {
      EXPECT_NE(e.find("test.toml:" + std::to_string(c.line) + ":"), std::string::npos) << e;
    }
    EXPECT_NE(e.find(c.field), std::string::npos) << e;
  }
  EXPECT_NE(error_of("[calendar]\nwarm_route = \"events\"\n").find("no [proxy.routes.events]"),
            std::string::npos);
}

TEST(ConfigTest, TomlSyntaxErrorsGiveTheLine) {
  const auto e = error_of("[server]\nlisten = \n");
  EXPECT_NE(e.find("test.toml:2:"), std::string::npos) << e;
}

TEST(ConfigTest, MissingFileIsAnError) {
  EXPECT_THROW(load_config_file("/nonexistent/tiercached.toml"), ConfigError);
}

TEST(ConfigTest, TheExampleConfigLoads) {
  const Config c = load_config_file((test::source_dir() / "deploy" / "tiercached.toml").string());
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_FALSE(c.namespaces.empty());
  EXPECT_TRUE(c.calendar.enabled);
  EXPECT_EQ(c.calendar.cleanup_interval, 1min);
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  ScopedEnv url("REDIS_URL", "redis://127.0.0.1:7000/3");
  ScopedEnv listen("TIERCACHE_LISTEN", "127.0.0.1:9100");
  ScopedEnv token("TIERCACHE_ADMIN_TOKEN", "from-the-environment-0123");
  Config c = load_config("[server]\nlisten = \"127.0.0.1:1\"\n", "t.toml");
  apply_environment(c);
  ASSERT_TRUE(c.redis.has_value());
  EXPECT_EQ(c.redis->port, 7000);
  EXPECT_EQ(c.redis->database, 3);
  EXPECT_EQ(c.listen_port, 9100);
  EXPECT_EQ(c.admin_token, "from-the-environment-0123");
}

TEST(ConfigTest, BadEnvironmentNamesTheVariable) {
  ScopedEnv port("REDIS_PORT", "abc");
  Config c;
  try {
    apply_environment(c);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("REDIS_PORT"), std::string::npos) << e.what();
  }
}

TEST(ConfigTest, FlagsOverrideEnvironmentAndFile) {
  ScopedEnv listen("TIERCACHE_LISTEN", "127.0.0.1:9100");
  const char* argv[] = {"tiercached",     "--listen",  "[::1]:9200", "--redis",
                        "redis://h:1234", "--threads", "3"};
  std::ostringstream out, err;
  auto cl = parse_command_line(7, argv, out, err);
  ASSERT_TRUE(cl.config.has_value()) << err.str();
  EXPECT_EQ(cl.config->listen_host, "::1");
  EXPECT_EQ(cl.config->listen_port, 9200);
  EXPECT_EQ(cl.config->redis->host, "h");
  EXPECT_EQ(cl.config->threads, 3u);
}

TEST(ConfigTest, VersionHelpAndBadFlags) {
  std::ostringstream out, err;
  const char* version[] = {"tiercached", "--version"};
  auto v = parse_command_line(2, version, out, err);
  EXPECT_FALSE(v.config.has_value());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(out.str().find("tiercached "), std::string::npos);
  const char* help[] = {"tiercached", "--help"};
  auto h = parse_command_line(2, help, out, err);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(out.str().find("--config"), std::string::npos);
  const char* bad[] = {"tiercached", "--listen", "nope"};
  auto b = parse_command_line(3, bad, out, err);
  EXPECT_FALSE(b.config.has_value());
  EXPECT_NE(b.exit_code, 0);
  EXPECT_NE(err.str().find("--listen"), std::string::npos);
}

TEST(UnitsTest, DurationsAndSizes) {
  EXPECT_EQ(parse_duration("90s"), 90s);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("7d"), std::chrono::hours(168));
  EXPECT_EQ(parse_duration("12"), 12s);
  for (const char* bad : {"", "-1s", "1x", "s", "1h-1m", "99999999999d", "1.5s", " 1s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_size("2M"), 2u << 20);
  EXPECT_FALSE(parse_size("2TB").has_value());
  EXPECT_FALSE(parse_size("-1").has_value());
  EXPECT_EQ(format_duration(90min), "1h30m");
}

}  // namespace
}  // namespace tiercache::server
