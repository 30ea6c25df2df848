// Bad input gets a 4xx with a JSON error and stores nothing: keys, TTLs, JSON bodies, sizes.

#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tiercache::test {
namespace {

using V = http::verb;

class BadInputTest : public ::testing::Test {
 protected:
  static Config config(const RedisServer& redis) {
    Config c = with_redis(redis);
    c.limits.max_header_bytes = 4096;
    c.limits.max_body_bytes = 64 * 1024;
    c.namespaces[0].max_value_size = 64 * 1024;
    return c;
  }
  RedisServer redis_;
  DaemonUnderTest daemon_{config(redis_)};
  HttpClient& c() { return daemon_.client(); }

  // Redis holds no key at all: nothing was stored.
  void expect_nothing_stored() { EXPECT_EQ(redis_.cli({"DBSIZE"}), "0"); }
  void expect_error(const HttpResponse& r, http::status status, const std::string& code) {
    EXPECT_EQ(r.result(), status) << r.body();
    EXPECT_EQ(HttpClient::error_code(r), code) << r.body();
    EXPECT_EQ(r[http::field::content_type], "application/json");
  }
};

TEST_F(BadInputTest, DotDotAndDotKeysAreRefused) {
  expect_error(c().request(V::put, "/v1/cache/users/..", "x"), http::status::bad_request,
               "invalid_key");
  expect_error(c().request(V::put, "/v1/cache/users/a%2F..%2Fb", "x"), http::status::bad_request,
               "invalid_key");
  expect_error(c().request(V::put, "/v1/cache/users/.", "x"), http::status::bad_request,
               "invalid_key");
  expect_nothing_stored();
}

TEST_F(BadInputTest, ControlBytesInKeysAreRefused) {
  for (const char* key : {"a%00b", "a%0Ab", "%7F", "tab%09"}) {
    expect_error(c().request(V::put, std::string("/v1/cache/users/") + key, "x"),
                 http::status::bad_request, "invalid_key");
  }
  expect_nothing_stored();
}

TEST_F(BadInputTest, EmptyAndHugeKeysAreRefused) {
  // An empty segment matches no route: the key cannot be empty.
  expect_error(c().request(V::put, "/v1/cache/users/", "x"), http::status::not_found,
               "route_not_found");
  expect_error(c().request(V::put, "/v1/cache/users/" + std::string(1025, 'k'), "x"),
               http::status::bad_request, "invalid_key");
  auto batch =
      c().request(V::post, "/v1/cache/users/batch/set", R"({"items":[{"key":"","value":"x"}]})");
  expect_error(batch, http::status::bad_request, "invalid_key");
  expect_nothing_stored();
}

TEST_F(BadInputTest, NegativeZeroAndAbsurdTtlsAreRefused) {
  for (const char* ttl : {"-5s", "0", "0s", "abc", "10y", "99999999999999999999", "1h%00"}) {
    expect_error(c().request(V::put, std::string("/v1/cache/users/k?ttl=") + ttl, "x"),
                 http::status::bad_request, "invalid_ttl");
  }
  // Beyond the namespace's max_ttl (7 days by default).
  expect_error(c().request(V::put, "/v1/cache/users/k?ttl=8d", "x"), http::status::bad_request,
               "invalid_ttl");
  expect_error(c().request(V::put, "/v1/cache/users/k", "x", {{"X-Cache-TTL", "-1"}}),
               http::status::bad_request, "invalid_ttl");
  expect_error(c().request(V::put, "/v1/cache/users/k?grace=-1s", "x"), http::status::bad_request,
               "invalid_grace");
  expect_nothing_stored();
}

TEST_F(BadInputTest, ConflictingAndUnknownOptionsAreRefused) {
  expect_error(c().request(V::put, "/v1/cache/users/k?ttl=1m", "x", {{"X-Cache-TTL", "2m"}}),
               http::status::bad_request, "invalid_argument");
  expect_error(c().request(V::put, "/v1/cache/users/k?tll=1m", "x"), http::status::bad_request,
               "unknown_parameter");
  expect_error(c().request(V::put, "/v1/cache/users/k?priority=urgent", "x"),
               http::status::bad_request, "invalid_priority");
  expect_error(c().request(V::put, "/v1/cache/users/k?tag=", "x"), http::status::bad_request,
               "invalid_tag");
  expect_error(c().request(V::get, "/v1/cache/users/k?x=1"), http::status::bad_request,
               "unknown_parameter");
  expect_nothing_stored();
}

TEST_F(BadInputTest, MalformedJsonIsRefused) {
  for (const char* body : {"", "{", "[1,2]", "{\"keys\":[\"a\",]}", "null", "\"str\""}) {
    expect_error(c().request(V::post, "/v1/cache/users/batch/set", body), http::status::bad_request,
                 "malformed_json");
  }
  expect_nothing_stored();
}

TEST_F(BadInputTest, UnknownJsonFieldsAreRefused) {
  expect_error(c().request(V::post, "/v1/cache/users/batch/set",
                           R"({"items":[{"key":"a","value":"x"}],"ttl":"1m","tlt":"2m"})"),
               http::status::bad_request, "unknown_field");
  expect_error(c().request(V::post, "/v1/cache/users/batch/set",
                           R"({"items":[{"key":"a","value":"x","extra":1}]})"),
               http::status::bad_request, "unknown_field");
  expect_error(
      c().request(V::post, "/v1/cache/users/invalidate", R"({"keys":["a"],"everything":true})"),
      http::status::bad_request, "unknown_field");
  expect_error(c().request(V::post, "/v1/cache/users/batch/get", R"({"keys":"a"})"),
               http::status::bad_request, "invalid_argument");
  expect_error(c().request(V::post, "/v1/cache/users/invalidate", R"({})"),
               http::status::bad_request, "invalid_argument");
  expect_nothing_stored();
}

TEST_F(BadInputTest, ABatchWithOneBadItemStoresNothing) {
  auto r = c().request(V::post, "/v1/cache/users/batch/set",
                       R"({"items":[{"key":"good","value":"x"},{"key":"bad\u0001","value":"y"}]})");
  expect_error(r, http::status::bad_request, "invalid_key");
  auto b64 = c().request(V::post, "/v1/cache/users/batch/set",
                         R"({"items":[{"key":"good","value_base64":"not base64!"}]})");
  expect_error(b64, http::status::bad_request, "invalid_argument");
  expect_nothing_stored();
}

TEST_F(BadInputTest, HugeBodyGets413AndTheConnectionCloses) {
  auto r = c().request(V::put, "/v1/cache/users/big", std::string(65 * 1024, 'x'));
  expect_error(r, http::status::payload_too_large, "body_too_large");
  EXPECT_FALSE(r.keep_alive());
  expect_nothing_stored();
}

TEST_F(BadInputTest, ValueAboveTheNamespaceLimitGets413) {
  auto r = c().request(V::put, "/v1/cache/nol1/big", std::string(2048, 'x'));
  expect_error(r, http::status::payload_too_large, "value_too_large");
  expect_nothing_stored();
}

TEST_F(BadInputTest, HugeHeadersGet431) {
  auto r = c().request(V::get, "/v1/cache/users/k", {}, {{"X-Filler", std::string(8000, 'h')}});
  expect_error(r, http::status::request_header_fields_too_large, "headers_too_large");
}

TEST_F(BadInputTest, GarbageRequestLineGets400) {
  auto r = c().raw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(HttpClient::error_code(r), "bad_request");
}

TEST_F(BadInputTest, ServerStillServesAfterBadRequests) {
  c().request(V::put, "/v1/cache/users/" + std::string(2000, 'k'), "x");
  c().request(V::put, "/v1/cache/users/big", std::string(65 * 1024, 'x'));
  EXPECT_EQ(c().request(V::put, "/v1/cache/users/fine", "x").result(), http::status::no_content);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/fine").body(), "x");
}

}  // namespace
}  // namespace tiercache::test
