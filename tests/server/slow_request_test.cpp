// The dashboard's slow-request log follows `[server] slow_request`: at "0s" every request is
// kept, at the default (100 ms) a fast one is not. In-process daemon on L1 alone.

#include "tests/server/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace tiercache::test {
namespace {

using V = http::verb;
namespace json = boost::json;
using namespace std::chrono_literals;

// GET /v1/dashboard's slow_log, after a PUT and a GET of a value.
json::object slow_log_after_two_requests(Config config) {
  DaemonUnderTest d{std::move(config)};
  EXPECT_EQ(d.client().request(V::put, "/v1/cache/users/k", "v").result(),
            http::status::no_content);
  EXPECT_EQ(d.client().request(V::get, "/v1/cache/users/k").result(), http::status::ok);
  return HttpClient::json(d.client().request(V::get, "/v1/dashboard")).at("slow_log").as_object();
}

TEST(SlowRequestTest, AtZeroEveryRequestIsKept) {
  Config c = test_config();
  c.slow_request = 0ms;
  const auto log = slow_log_after_two_requests(std::move(c));
  EXPECT_EQ(log.at("threshold_ms").to_number<double>(), 0.0);
  const auto& entries = log.at("entries").as_array();
  const auto has = [&](std::string_view operation) {
    return std::any_of(entries.begin(), entries.end(), [&](const json::value& e) {
      return e.at("operation").as_string() == operation && e.at("key") == "/v1/cache/users/k";
    });
  };
  EXPECT_TRUE(has("PUT /v1/cache/{ns}/{key}")) << json::serialize(log);
  EXPECT_TRUE(has("GET /v1/cache/{ns}/{key}")) << json::serialize(log);
}

TEST(SlowRequestTest, AtTheDefaultFastRequestsAreNot) {
  const auto log = slow_log_after_two_requests(test_config());
  EXPECT_EQ(log.at("threshold_ms").to_number<double>(), 100.0);
  // An L1 write and read take microseconds; a loaded machine could stretch one past 100 ms,
  // but not both.
  EXPECT_LE(log.at("entries").as_array().size(), 1u) << json::serialize(log);
}

}  // namespace
}  // namespace tiercache::test
