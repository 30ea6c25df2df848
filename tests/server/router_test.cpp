// Router and the small pure helpers of the REST API: matching, decoding, ETags, envelopes,
// base64 and UTF-8 checks, key rules.

#include "server/router.hpp"

#include "tiercache/base/json_text.hpp"

#include "server/etag.hpp"
#include "server/request_input.hpp"
#include "server/value_envelope.hpp"

#include <gtest/gtest.h>

namespace tiercache::server {
namespace {

using V = http::verb;

Router make_router() {
  Router r;
  r.add(V::get, "/v1/cache/{ns}/{key}", 1);
  r.add(V::put, "/v1/cache/{ns}/{key}", 2);
  r.add(V::get, "/v1/cache/{ns}/{key}/ttl", 3);
  r.add(V::get, "/healthz", 4);
  return r;
}

TEST(RouterTest, MatchesAndDecodesParameters) {
  const auto r = make_router();
  auto m = r.match(V::get, "/v1/cache/users/a%2Fb%20c?ttl=10m&tag=x&tag=y");
  ASSERT_TRUE(std::holds_alternative<Match>(m));
  const auto& match = std::get<Match>(m);
  EXPECT_EQ(match.route, 1);
  EXPECT_EQ(match.param("ns"), "users");
  EXPECT_EQ(match.param("key"), "a/b c");
  EXPECT_EQ(match.query_all("tag").size(), 2u);
  EXPECT_EQ(match.pattern, "/v1/cache/{ns}/{key}");
  EXPECT_EQ(std::get<Match>(r.match(V::get, "/v1/cache/users/k/ttl")).route, 3);
  EXPECT_EQ(std::get<Match>(r.match(V::get, "/healthz")).route, 4);
}

TEST(RouterTest, ReportsNotFoundAndMethodNotAllowed) {
  const auto r = make_router();
  auto nf = r.match(V::get, "/v1/cache/users");
  ASSERT_TRUE(std::holds_alternative<ApiError>(nf));
  EXPECT_EQ(std::get<ApiError>(nf).code, "route_not_found");
  EXPECT_EQ(std::get<ApiError>(r.match(V::get, "/v1/cache/users/")).code, "route_not_found");
  std::string allow;
  auto na = r.match(V::delete_, "/v1/cache/users/k", &allow);
  ASSERT_TRUE(std::holds_alternative<ApiError>(na));
  EXPECT_EQ(std::get<ApiError>(na).status, http::status::method_not_allowed);
  EXPECT_EQ(allow, "GET, PUT");
  auto bad = r.match(V::get, "http://absolute/form");
  ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
  EXPECT_EQ(std::get<ApiError>(bad).code, "bad_target");
  EXPECT_EQ(std::get<ApiError>(r.match(V::get, "/v1/cache/users/%zz")).code, "bad_target");
}

TEST(KeyRulesTest, RefusesWhatCouldEscapeOrConfuse) {
  EXPECT_FALSE(check_key("users/42").has_value());
  EXPECT_FALSE(check_key("a..b").has_value());
  for (const std::string& bad :
       {std::string(), std::string(".."), std::string("a/../b"), std::string("./x"),
        std::string("a\nb"), std::string("\x7f"), std::string(1, '\0'), std::string(1025, 'k')}) {
    EXPECT_TRUE(check_key(bad).has_value()) << bad;
  }
}

TEST(EnvelopeTest, KeepsContentTypeAndExactBytes) {
  const std::string body("\0\xff raw", 6);
  for (const char* type : {"", "application/octet-stream", "application/json",
                           "text/plain; charset=utf-8", "image/png"}) {
    const auto stored = wrap_value(body, type);
    const auto back = unwrap_value(stored.bytes, stored.codec);
    EXPECT_EQ(back.body, body) << type;
    EXPECT_EQ(back.content_type, *type == '\0' ? std::string("application/octet-stream") : type);
  }
  EXPECT_EQ(wrap_value("{}", "application/json").bytes, "{}");
  EXPECT_EQ(wrap_value("{}", "application/json").codec, cache::Codec::json);
  EXPECT_EQ(wrap_value("x", "").bytes, "x");
  // A raw body that starts like an envelope is enveloped, so it reads back unchanged.
  const std::string tricky("\0tc1\x04oops", 9);
  const auto stored = wrap_value(tricky, "");
  EXPECT_EQ(unwrap_value(stored.bytes, stored.codec).body, tricky);
}

TEST(EtagTest, IfNoneMatchUsesWeakComparison) {
  cache::Entry e;
  e.version = 0xabc;
  EXPECT_EQ(etag_of(e), "\"vabc\"");
  EXPECT_TRUE(if_none_match("\"vabc\"", "\"vabc\""));
  EXPECT_TRUE(if_none_match("\"x\", W/\"vabc\"", "\"vabc\""));
  EXPECT_TRUE(if_none_match("*", "\"vabc\""));
  EXPECT_FALSE(if_none_match("\"vab\"", "\"vabc\""));
}

TEST(JsonTextTest, Base64AndUtf8) {
  for (const char* s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), std::string(s));
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm=v").has_value());
  EXPECT_FALSE(base64_decode("Zm9v!A==").has_value());
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
}

}  // namespace
}  // namespace tiercache::server
