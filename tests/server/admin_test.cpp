// The admin API: absent (404) without a token configured; 401 without the right bearer token.

#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

namespace tiercache::test {
namespace {

using V = http::verb;
const std::string kToken = "s3cret-token-0123456789";

TEST(AdminTest, AdminRoutesDoNotExistWithoutAToken) {
  RedisServer redis;
  DaemonUnderTest d{with_redis(redis)};
  auto r = d.client().request(V::post, "/v1/admin/stats/reset", {},
                              {{"Authorization", "Bearer " + kToken}});
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(HttpClient::error_code(r), "route_not_found");
}

class AdminTokenTest : public ::testing::Test {
 protected:
  static Config config(const RedisServer& redis) {
    Config c = with_redis(redis);
    c.admin_token = kToken;
    return c;
  }
  RedisServer redis_;
  DaemonUnderTest d_{config(redis_)};
  HttpClient& c() { return d_.client(); }
};

TEST_F(AdminTokenTest, RefusesMissingOrWrongTokens) {
  for (const std::map<std::string, std::string>& headers :
       {std::map<std::string, std::string>{},
        {{"Authorization", "Bearer wrong"}},
        {{"Authorization", "Bearer " + kToken + "x"}},
        {{"Authorization", kToken}},
        {{"Authorization", "Basic " + kToken}}}) {
    auto r = c().request(V::post, "/v1/admin/namespaces/users/clear", {}, headers);
    EXPECT_EQ(r.result(), http::status::unauthorized);
    EXPECT_EQ(HttpClient::error_code(r), "unauthorized");
    EXPECT_EQ(r[http::field::www_authenticate], "Bearer");
  }
}

TEST_F(AdminTokenTest, ClearNamespaceDropsEveryValue) {
  c().request(V::put, "/v1/cache/users/a", "1");
  c().request(V::put, "/v1/cache/users/b", "2");
  auto r = c().request(V::post, "/v1/admin/namespaces/users/clear", {},
                       {{"Authorization", "Bearer " + kToken}});
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/a").result(), http::status::not_found);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/b").result(), http::status::not_found);
}

TEST_F(AdminTokenTest, ResetStatsZeroesTheCounters) {
  c().request(V::get, "/v1/cache/users/missing");
  auto before = HttpClient::json(c().request(V::get, "/v1/stats"));
  EXPECT_EQ(before.at("misses").as_int64(), 1);
  auto r =
      c().request(V::post, "/v1/admin/stats/reset", {}, {{"Authorization", "Bearer " + kToken}});
  ASSERT_EQ(r.result(), http::status::ok);
  auto after = HttpClient::json(c().request(V::get, "/v1/stats"));
  EXPECT_EQ(after.at("misses").as_int64(), 0);
}

}  // namespace
}  // namespace tiercache::test
