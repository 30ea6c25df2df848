// A Cache on a client with redis::Config::tracking_optin (CLIENT TRACKING ON OPTIN): Redis
// tracks only the reads the cache asks it to (CLIENT CACHING YES first). With L1 off those are
// the namespace and tag versions and a fleet-lock waiter's read, never a data key; with L1 on,
// every read that fills L1. Counted by the server (INFO commandstats) and by the cache's
// invalidations_received, the keys Redis pushed to it.

#include "tiercache/cache/cache.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

class CacheTrackingOptinTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options) {
    return test::tracked_cache(ex(), server_, std::move(options), /*optin=*/true);
  }
  asio::any_io_executor ex() { return io_.executor(); }
  bool hit(Cache& cache, const std::string& key) { return test::hits(ex(), cache, key); }
  std::uint64_t calls(const std::string& command) { return server_.calls(command); }

  test::RedisServer server_;
  test::IoThreads io_{2};
};

TEST_F(CacheTrackingOptinTest, WithL1OffOnlyVersionsAreTracked) {
  auto a = make(Options{.l1_bytes = 0});
  ASSERT_TRUE(run(ex(), a->set("k", "1", {.tags = {"t"}})));
  ASSERT_TRUE(hit(*a, "k"));  // reads and caches the namespace and tag versions

  // Warm: a get is one GET, its versions come from the tracked table.
  ASSERT_EQ(server_.cli({"CONFIG", "RESETSTAT"}), "OK");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(hit(*a, "k"));
  EXPECT_EQ(calls("get"), 20U);
  EXPECT_EQ(calls("mget"), 0U);
  EXPECT_EQ(calls("client|caching"), 0U);

  // Data keys are not tracked: another client's write of one pushes nothing.
  const auto pushed = a->stats().invalidations_received;
  const std::string rk = *run(ex(), a->redis_key("k"));
  ASSERT_EQ(server_.cli({"SET", rk, "foreign"}), "OK");
  ASSERT_TRUE(run(ex(), a->set("k", "2", {.tags = {"t"}})));
  ASSERT_TRUE(hit(*a, "k"));
  EXPECT_EQ(a->stats().invalidations_received, pushed);

  // Versions are: a tag's or the namespace's change by another client reaches this one.
  ASSERT_EQ(server_.cli({"SET", "cache:tag:t", "1"}), "OK");
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));
  EXPECT_GT(a->stats().invalidations_received, pushed);
  ASSERT_TRUE(run(ex(), a->set("k", "3")));
  ASSERT_TRUE(hit(*a, "k"));
  ASSERT_EQ(server_.cli({"SET", "cache:version", "12345"}), "OK");
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));
  EXPECT_EQ(*run(ex(), a->redis_key("k")), "cache:v3039:k");  // 12345 in hex
}

TEST_F(CacheTrackingOptinTest, WithL1OffAnotherInstancesChangesAreSeen) {
  auto a = make(Options{.l1_bytes = 0});
  auto b = make(Options{.l1_bytes = 0});
  ASSERT_TRUE(run(ex(), a->set("k", "1", {.tags = {"t"}})));
  ASSERT_TRUE(hit(*a, "k"));
  ASSERT_TRUE(hit(*b, "k"));
  ASSERT_TRUE(run(ex(), b->invalidate_tags({"t"})));
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));
  ASSERT_TRUE(run(ex(), a->set("k", "2")));
  ASSERT_TRUE(hit(*b, "k"));
  ASSERT_TRUE(run(ex(), b->invalidate_namespace()));
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));
}

TEST_F(CacheTrackingOptinTest, WithL1OnEveryCopyIsTracked) {
  auto a = make(Options{});
  auto b = make(Options{});
  // A copy filled by a write (its PTTL tracked), and one filled by a read.
  ASSERT_TRUE(run(ex(), a->set("w", "1")));
  ASSERT_TRUE(run(ex(), b->set("r", "1")));
  ASSERT_TRUE(hit(*a, "r"));
  auto many = run(ex(), a->get_many({"w", "r", "m"}));
  ASSERT_TRUE(many);
  ASSERT_EQ(many->size(), 3U);
  EXPECT_EQ((*many)[0].source, Source::l1);
  EXPECT_EQ((*many)[1].source, Source::l1);
  ASSERT_TRUE(run(ex(), b->set("m", "1")));
  ASSERT_TRUE(hit(*a, "m"));  // filled by get's tracked GET

  for (const char* key : {"w", "r", "m"}) {
    ASSERT_EQ(server_.cli({"SET", *run(ex(), a->redis_key(key)), "foreign"}), "OK");
    EXPECT_TRUE(test::eventually([&] {
      auto r = run(ex(), a->get(key));
      return r && !r->hit() && r->source == Source::none;  // foreign bytes: a miss, not L1
    })) << key;
  }
}

TEST_F(CacheTrackingOptinTest, AFleetLockWaiterIsWokenByTheOwnersWrite) {
  auto a = make(Options{.l1_bytes = 0});
  auto b = make(Options{.l1_bytes = 0});
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto first = test::start(ex(), a->get_or_load("k", test::counting(calls, "v", 300ms)));
  ASSERT_TRUE(test::eventually([&] { return calls->load() == 1; }));
  auto second = run(ex(), b->get_or_load("k", test::counting(calls, "v", 300ms)));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->value(), "v");
  EXPECT_EQ(calls->load(), 1);
  // B read the key while it waited, tracked: A's write reached it as a push.
  EXPECT_GE(b->stats().invalidations_received, 1U);
  EXPECT_EQ(b->stats().lock_waits, 1U);
  ASSERT_TRUE(first.get());
}

}  // namespace
}  // namespace tiercache::cache
