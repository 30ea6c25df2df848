// The exactness promise on a Redis Cluster (issue #9): each limit is one key, so one script on one
// master decides it. 400 concurrent requests for each of six limits of 100, whose keys live on
// every master, over 2 ClusterClients on 4 threads: each limit admits exactly 100, for each
// algorithm (the sliding-window counter within one fixed window, as in
// limiter_concurrency_test.cpp).
#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/slot.hpp"

#include "tests/ratelimit/concurrent_requests.hpp"
#include "tests/ratelimit/ratelimit_test_util.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace tiercache::ratelimit {
namespace {

using namespace std::chrono_literals;

class LimiterClusterTest : public testing::TestWithParam<Algorithm> {
 protected:
  std::shared_ptr<redis::ClusterClient> started_client() {
    redis::ClusterOptions options;
    for (const auto port : cluster_.ports()) options.seeds.push_back({"127.0.0.1", port});
    redis::Config config = cluster_.config();
    config.request_timeout = 5s;
    auto client = std::make_shared<redis::ClusterClient>(io_.executor(), config, options);
    client->start();
    return client;
  }

  tiercache::test::RedisCluster cluster_;
  test::IoThreads io_{4};
};

INSTANTIATE_TEST_SUITE_P(Algorithms, LimiterClusterTest,
                         testing::Values(Algorithm::sliding_log, Algorithm::sliding_window,
                                         Algorithm::token_bucket),
                         [](const auto& param) { return std::string(to_string(param.param)); });

long hour_now() {
  return std::chrono::duration_cast<std::chrono::hours>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_P(LimiterClusterTest, EveryLimitAdmitsExactlyItsLimitWhicheverMasterHoldsIt) {
  std::vector<std::string> keys = {"search:paris", "search:lyon", "search:nice",
                                   "details:1",    "details:2",   "orders"};
  std::set<std::uint16_t> masters;
  for (const auto& k : keys) {
    masters.insert(cluster_.master_of_slot(redis::key_slot("ratelimit:" + k)));
  }
  ASSERT_EQ(masters.size(), 3u) << "the limits' keys should live on every master";

  auto first = started_client();
  auto second = started_client();
  const bool sliding_log = GetParam() == Algorithm::sliding_log;
  const Policy policy{.algorithm = GetParam(), .limit = 100, .window = sliding_log ? 10s : 1h};
  const std::vector<Limiter> limiters = {Limiter(first, policy), Limiter(second, policy)};

  std::map<std::string, test::Counts> counts;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const long before = hour_now();
    counts = test::run_concurrently(io_.io(), limiters, keys, 400);
    if (GetParam() != Algorithm::sliding_window || hour_now() == before) break;
    for (auto& k : keys) k += ":again";  // the run straddled two fixed windows: once more
  }
  first->stop();
  second->stop();

  for (const auto& k : keys) {
    const test::Counts& c = counts[k];
    EXPECT_EQ(c.failed, 0) << k;
    EXPECT_EQ(c.allowed + c.denied, 400) << k;
    EXPECT_EQ(c.allowed, 100) << k;
  }
}

}  // namespace
}  // namespace tiercache::ratelimit
