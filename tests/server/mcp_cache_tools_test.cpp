// The cache tools through MCP over HTTP on a daemon with a real redis-server: each tool with
// valid arguments (and the value seen by the REST API too), and with invalid ones (an error
// result that says what is expected, and nothing changed).

#include "tests/server/mcp_client.hpp"
#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

namespace tiercache::test {
namespace {

namespace json = boost::json;

class McpCacheToolsTest : public ::testing::Test {
 protected:
  McpCacheToolsTest() : daemon_(with_redis(redis_)), mcp_(daemon_.port()) { mcp_.initialize(); }

  json::object call(const std::string& tool, const std::string& args) {
    return mcp_.call_tool(tool, json::parse(args).as_object());
  }
  // The error text of a call that must fail.
  std::string error(const std::string& tool, const std::string& args) {
    const auto r = call(tool, args);
    EXPECT_EQ(r.at("isError"), json::value(true)) << tool << " " << args;
    return McpHttpClient::text_of(r);
  }
  json::object ok(const std::string& tool, const std::string& args) {
    const auto r = call(tool, args);
    EXPECT_EQ(r.at("isError"), json::value(false)) << McpHttpClient::text_of(r);
    return r.at("structuredContent").as_object();
  }

  RedisServer redis_;
  DaemonUnderTest daemon_;
  McpHttpClient mcp_;
};

TEST_F(McpCacheToolsTest, ListsTheFourCacheToolsWithSchemas) {
  const auto tools = mcp_.request("tools/list", {}).at("result").at("tools").as_array();
  std::vector<std::string> names;
  for (const auto& t : tools) {
    if (!t.at("name").as_string().starts_with("cache_")) continue;  // the calendar's are elsewhere
    names.emplace_back(t.at("name").as_string());
    EXPECT_EQ(t.at("inputSchema").at("type"), json::value("object"));
    EXPECT_TRUE(t.at("outputSchema").is_object());
    EXPECT_GT(t.at("description").as_string().size(), 80u);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"cache_get", "cache_set", "cache_invalidate",
                                             "cache_stats"}));
}

TEST_F(McpCacheToolsTest, SetThenGetRoundTripsAndRestSeesIt) {
  auto set = ok("cache_set",
                R"({"namespace": "users", "key": "u:1", "value": "Ada", "ttl": "10m",
                    "tags": ["team"], "priority": "high", "content_type": "text/plain"})");
  EXPECT_EQ(set.at("stored"), json::value(true));
  EXPECT_EQ(set.at("ttl_ms"), json::value(600000));
  auto got = ok("cache_get", R"({"namespace": "users", "key": "u:1"})");
  EXPECT_EQ(got.at("hit"), json::value(true));
  EXPECT_EQ(got.at("value"), json::value("Ada"));
  EXPECT_EQ(got.at("content_type"), json::value("text/plain"));
  EXPECT_GT(got.at("fresh_ms").as_int64(), 590000);
  const auto rest = daemon_.client().request(http::verb::get, "/v1/cache/users/u:1");
  EXPECT_EQ(rest.body(), "Ada");
}

TEST_F(McpCacheToolsTest, JsonValuesAndBytesAreStoredAsSuch) {
  ok("cache_set", R"({"namespace": "users", "key": "j", "value": {"a": [1, 2]}})");
  auto got = ok("cache_get", R"({"namespace": "users", "key": "j"})");
  EXPECT_EQ(got.at("content_type"), json::value("application/json"));
  EXPECT_EQ(json::parse(got.at("value").as_string()), json::parse(R"({"a": [1, 2]})"));
  ok("cache_set", R"({"namespace": "users", "key": "b", "value_base64": "/wA="})");
  got = ok("cache_get", R"({"namespace": "users", "key": "b"})");
  EXPECT_EQ(got.at("value_base64"), json::value("/wA="));
}

TEST_F(McpCacheToolsTest, MissIsAResultNotAnError) {
  const auto got = ok("cache_get", R"({"namespace": "users", "key": "absent"})");
  EXPECT_EQ(got.at("hit"), json::value(false));
  EXPECT_FALSE(got.contains("value"));
}

TEST_F(McpCacheToolsTest, BadArgumentsSayWhatIsExpectedAndStoreNothing) {
  EXPECT_NE(error("cache_get", R"({"namespace": "nope", "key": "k"})").find("use one of: "),
            std::string::npos);
  EXPECT_NE(error("cache_get", R"({"namespace": "users"})").find("missing required argument 'key'"),
            std::string::npos);
  EXPECT_NE(error("cache_get", R"({"namespace": "users", "key": "a/../b"})").find("invalid_key"),
            std::string::npos);
  EXPECT_NE(error("cache_set", R"({"namespace": "users", "key": "k", "value": "v", "ttl": "soon"})")
                .find("not a duration (as 90s, 10m"),
            std::string::npos);
  EXPECT_NE(error("cache_set", R"({"namespace": "users", "key": "k", "value": "v", "ttl": "200h"})")
                .find("max_ttl"),
            std::string::npos);
  EXPECT_NE(error("cache_set", R"({"namespace": "users", "key": "k"})").find("exactly one of"),
            std::string::npos);
  EXPECT_NE(error("cache_set",
                  R"({"namespace": "users", "key": "k", "value": "v", "priority": "urgent"})")
                .find(R"(["low","normal","high"])"),
            std::string::npos);
  EXPECT_NE(error("cache_set", R"({"namespace": "users", "key": "k", "value_base64": "!!"})")
                .find("not base64"),
            std::string::npos);
  EXPECT_NE(
      error("cache_set", R"({"namespace": "users", "key": "k", "value": "v", "tags": ["a,b"]})")
          .find("invalid_tag"),
      std::string::npos);
  EXPECT_NE(error("cache_set", R"({"namespace": "nol1", "key": "k", "value": ")" +
                                   std::string(2000, 'x') + R"("})")
                .find("at most 1024"),
            std::string::npos);
  EXPECT_NE(error("cache_set", R"({"namespace": "users", "key": "k", "value": "v", "ttl": 60})")
                .find("ttl must be a string"),
            std::string::npos);
  // Nothing of the above was stored.
  EXPECT_EQ(ok("cache_get", R"({"namespace": "users", "key": "k"})").at("hit"), json::value(false));
  EXPECT_EQ(ok("cache_get", R"({"namespace": "nol1", "key": "k"})").at("hit"), json::value(false));
}

TEST_F(McpCacheToolsTest, InvalidateByKeysTagsPatternAndNamespace) {
  ok("cache_set", R"({"namespace": "users", "key": "a", "value": "1", "tags": ["t"]})");
  ok("cache_set", R"({"namespace": "users", "key": "b", "value": "2"})");
  ok("cache_set", R"({"namespace": "users", "key": "p:1", "value": "3"})");
  ok("cache_set", R"({"namespace": "users", "key": "c", "value": "4"})");
  const auto hit = [&](const char* key) {
    return ok("cache_get", std::string(R"({"namespace": "users", "key": ")") + key + "\"}")
        .at("hit")
        .as_bool();
  };
  auto r = ok("cache_invalidate", R"({"namespace": "users", "keys": ["b", "zz"]})");
  EXPECT_EQ(r.at("keys_deleted"), json::value(1));
  EXPECT_FALSE(hit("b"));
  r = ok("cache_invalidate", R"({"namespace": "users", "tags": ["t"]})");
  EXPECT_EQ(r.at("tags_invalidated"), json::value(1));
  EXPECT_FALSE(hit("a"));
  r = ok("cache_invalidate", R"({"namespace": "users", "pattern": "p:*"})");
  EXPECT_FALSE(hit("p:1"));
  EXPECT_TRUE(hit("c"));
  r = ok("cache_invalidate", R"({"namespace": "users", "all": true})");
  EXPECT_EQ(r.at("namespace_invalidated"), json::value(true));
  EXPECT_FALSE(hit("c"));
}

TEST_F(McpCacheToolsTest, InvalidateRefusesNothingToDoAndBadItemsBeforeDroppingAny) {
  ok("cache_set", R"({"namespace": "users", "key": "keep", "value": "1"})");
  EXPECT_NE(error("cache_invalidate", R"({"namespace": "users"})").find("name something"),
            std::string::npos);
  EXPECT_NE(error("cache_invalidate", R"({"namespace": "users", "keys": ["keep", ".."]})")
                .find("invalid_key"),
            std::string::npos);
  EXPECT_NE(error("cache_invalidate", R"({"namespace": "users", "all": "yes"})")
                .find("all must be a boolean"),
            std::string::npos);
  EXPECT_NE(error("cache_invalidate", R"({"namespace": "users", "keyz": ["keep"]})")
                .find("unknown argument 'keyz'"),
            std::string::npos);
  EXPECT_EQ(ok("cache_get", R"({"namespace": "users", "key": "keep"})").at("hit"),
            json::value(true));
}

TEST_F(McpCacheToolsTest, StatsCountWhatTheToolsDid) {
  ok("cache_set", R"({"namespace": "users", "key": "s", "value": "1"})");
  ok("cache_get", R"({"namespace": "users", "key": "s"})");
  ok("cache_get", R"({"namespace": "users", "key": "missing"})");
  auto s = ok("cache_stats", "{}");
  EXPECT_EQ(s.at("mode"), json::value("two_tier"));
  EXPECT_EQ(s.at("degraded"), json::value(false));
  const auto& users = s.at("namespaces").at("users");
  EXPECT_EQ(users.at("hits"), json::value(1));
  EXPECT_EQ(users.at("misses"), json::value(1));
  EXPECT_EQ(users.at("sets"), json::value(1));
  s = ok("cache_stats", R"({"namespace": "nol1"})");
  EXPECT_EQ(s.at("namespaces").as_object().size(), 1u);
  EXPECT_NE(error("cache_stats", R"({"namespace": "nope"})").find("known: "), std::string::npos);
  EXPECT_NE(error("cache_stats", R"({"namespace": 5})").find("must be a string"),
            std::string::npos);
}

}  // namespace
}  // namespace tiercache::test
