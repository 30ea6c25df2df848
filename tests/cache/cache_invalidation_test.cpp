// Invalidation seen from two instances (two Clients standing for two processes): by tag (a
// version bump), by dependency (transitive, taken at write time), by pattern (SCAN + UNLINK,
// glob characters in user input escaped) and by namespace (a version bump in the key).

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/key_builder.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

class CacheInvalidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = make();
    b_ = make();
  }
  std::unique_ptr<Cache> make(Options options = {}) {
    return test::tracked_cache(ex(), server_, std::move(options));
  }
  asio::any_io_executor ex() { return io_.executor(); }
  bool hit(Cache& cache, const std::string& key) { return test::hits(ex(), cache, key); }
  // Both instances have read key (so B's L1 holds it too).
  void warm(const std::string& key) {
    ASSERT_TRUE(hit(*a_, key));
    ASSERT_TRUE(hit(*b_, key));
    ASSERT_TRUE(hit(*b_, key));
  }

  test::RedisServer server_;
  test::IoThreads io_{2};
  std::unique_ptr<Cache> a_, b_;
};

TEST_F(CacheInvalidationTest, ATagDropsItsEntriesInBothInstances) {
  ASSERT_TRUE(run(ex(), a_->set("paris:1", "x", {.tags = {"city:paris"}})));
  ASSERT_TRUE(run(ex(), a_->set("rome:1", "y", {.tags = {"city:rome"}})));
  warm("paris:1");
  warm("rome:1");
  ASSERT_TRUE(run(ex(), a_->invalidate_tags({"city:paris"})));
  EXPECT_FALSE(hit(*a_, "paris:1"));
  EXPECT_TRUE(test::eventually([&] { return !hit(*b_, "paris:1"); }));
  EXPECT_TRUE(hit(*b_, "rome:1"));
  // A new write after the invalidation is valid again.
  ASSERT_TRUE(run(ex(), b_->set("paris:1", "x2", {.tags = {"city:paris"}})));
  EXPECT_TRUE(hit(*a_, "paris:1"));
}

// A tag key that Redis evicted (volatile-lfu likes them: L1 answers their reads, so Redis sees
// them idle) or let expire must not bring back what it invalidated: versions never repeat.
TEST_F(CacheInvalidationTest, ALostTagKeyDoesNotBringBackWhatItInvalidated) {
  ASSERT_TRUE(run(ex(), a_->set("first", "x", {.tags = {"city:paris"}})));
  ASSERT_TRUE(run(ex(), a_->invalidate_tags({"city:paris"})));
  ASSERT_TRUE(run(ex(), a_->set("second", "y", {.tags = {"city:paris"}})));
  ASSERT_TRUE(run(ex(), a_->invalidate_tags({"city:paris"})));
  ASSERT_EQ(server_.cli({"DEL", "cache:tag:city:paris"}), "1");  // as an eviction would
  auto c = make();  // a process that never saw the versions
  EXPECT_FALSE(hit(*c, "first"));
  EXPECT_FALSE(hit(*c, "second"));
  ASSERT_TRUE(run(ex(), a_->invalidate_tags({"city:paris"})));  // the key exists again
  EXPECT_FALSE(hit(*c, "first"));
  EXPECT_FALSE(hit(*c, "second"));
  ASSERT_TRUE(run(ex(), c->set("third", "z", {.tags = {"city:paris"}})));
  EXPECT_TRUE(hit(*b_, "third"));  // writes after the loss are valid
}

// The same for the namespace version: losing it starts a namespace no key was written under.
TEST_F(CacheInvalidationTest, ALostNamespaceVersionKeyDoesNotBringBackOldKeys) {
  ASSERT_TRUE(run(ex(), a_->set("k", "before")));
  ASSERT_TRUE(run(ex(), a_->invalidate_namespace()));
  ASSERT_TRUE(run(ex(), a_->set("k2", "after")));
  ASSERT_EQ(server_.cli({"DEL", "cache:version"}), "1");
  auto c = make();
  EXPECT_FALSE(hit(*c, "k"));
  EXPECT_FALSE(hit(*c, "k2"));
  ASSERT_TRUE(run(ex(), c->set("k", "new")));
  auto r = run(ex(), c->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "new");
}

TEST_F(CacheInvalidationTest, DeletingADependencyDropsItsDependentsTransitively) {
  ASSERT_TRUE(run(ex(), a_->set("c", "base")));
  ASSERT_TRUE(run(ex(), a_->set("b", "from c", {.dependencies = {"c"}})));
  ASSERT_TRUE(run(ex(), a_->set("a", "from b", {.dependencies = {"b"}})));
  warm("a");
  warm("b");
  ASSERT_TRUE(*run(ex(), b_->del("c")));
  EXPECT_TRUE(test::eventually([&] { return !hit(*a_, "a") && !hit(*b_, "a"); }));
  EXPECT_FALSE(hit(*b_, "b"));
}

TEST_F(CacheInvalidationTest, APatternRemovesMatchingKeysOnlyWithUserTextTakenLiterally) {
  ASSERT_TRUE(run(ex(), a_->set("flights:LHR:1", "1")));
  ASSERT_TRUE(run(ex(), a_->set("flights:LHR:2", "2")));
  ASSERT_TRUE(run(ex(), a_->set("flights:JFK:1", "3")));
  ASSERT_TRUE(run(ex(), a_->set("flights:L*:1", "4")));
  warm("flights:LHR:1");
  warm("flights:JFK:1");
  auto removed = run(ex(), b_->invalidate_pattern("flights:" + escape_glob("L*") + ":*"));
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1u);  // only the key whose text is literally "L*"
  EXPECT_TRUE(hit(*a_, "flights:LHR:1"));
  removed = run(ex(), b_->invalidate_pattern("flights:LHR:*"));
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2u);
  EXPECT_TRUE(test::eventually([&] { return !hit(*a_, "flights:LHR:1"); }));
  EXPECT_FALSE(hit(*b_, "flights:LHR:1"));
  EXPECT_TRUE(hit(*a_, "flights:JFK:1"));
}

TEST_F(CacheInvalidationTest, ANamespaceBumpDropsEverythingAndCleansUpTheOldKeys) {
  ASSERT_TRUE(run(ex(), a_->set("k1", "1")));
  ASSERT_TRUE(run(ex(), a_->set("k2", "2")));
  warm("k1");
  const auto old_key = *run(ex(), a_->redis_key("k1"));
  ASSERT_TRUE(run(ex(), b_->invalidate_namespace()));
  EXPECT_FALSE(hit(*b_, "k1"));
  EXPECT_TRUE(test::eventually([&] { return !hit(*a_, "k1") && !hit(*a_, "k2"); }));
  EXPECT_NE(*run(ex(), a_->redis_key("k1")), old_key);
  EXPECT_TRUE(test::eventually([&] { return server_.cli({"EXISTS", old_key}) == "0"; }));
  ASSERT_TRUE(run(ex(), a_->set("k1", "new")));
  EXPECT_TRUE(hit(*b_, "k1"));
}

// With L1 off a get reads the namespace and tag versions from the small tracked table of
// versions (and the namespace version from a copy of it that every get reads without a lookup):
// a bump by the other instance, or a raw write of the version key, must still reach it.
TEST_F(CacheInvalidationTest, WithL1OffVersionChangesElsewhereAreSeen) {
  auto a = make(Options{.l1_bytes = 0});
  auto b = make(Options{.l1_bytes = 0});
  ASSERT_TRUE(run(ex(), a->set("k", "1", {.tags = {"t"}})));
  ASSERT_TRUE(hit(*a, "k"));
  ASSERT_TRUE(hit(*b, "k"));
  const auto before = *run(ex(), a->redis_key("k"));

  ASSERT_TRUE(run(ex(), b->invalidate_tags({"t"})));
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));

  ASSERT_TRUE(run(ex(), a->set("k", "2")));
  ASSERT_TRUE(hit(*b, "k"));
  ASSERT_TRUE(run(ex(), b->invalidate_namespace()));
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));
  EXPECT_NE(*run(ex(), a->redis_key("k")), before);

  // A raw write of the version key by another client: A follows it, then misses.
  ASSERT_TRUE(run(ex(), a->set("k", "3")));
  ASSERT_TRUE(hit(*a, "k"));
  ASSERT_EQ(server_.cli({"SET", "cache:version", "12345"}), "OK");
  EXPECT_TRUE(test::eventually([&] { return !hit(*a, "k"); }));
  auto key = run(ex(), a->redis_key("k"));
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "cache:v3039:k");  // 12345 in hex
}

}  // namespace
}  // namespace tiercache::cache
