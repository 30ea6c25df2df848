// The loading race: a read that misses L1 takes a ticket before asking Redis, and an
// invalidation that overtakes the reply must win (FusionCache #613, lettuce #3481; issue 4).
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

class L1TicketTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Entry> make(std::string value) {
    Entry e;
    e.value = std::move(value);
    e.fresh_until = e.stale_until = clock_.wall_now() + 60s;
    return std::make_shared<const Entry>(std::move(e));
  }
  L1Options options() {
    L1Options o;
    o.max_bytes = 4 << 20;
    o.shards = 4;
    return o;
  }
  ManualClock clock_;
};

TEST_F(L1TicketTest, FillsWhenNothingChangedSinceBeginLoad) {
  L1 l1(options(), clock_);
  const auto ticket = l1.begin_load("k");
  EXPECT_EQ(ticket.key(), "k");
  EXPECT_EQ(l1.put_if_current(ticket, make("from redis")), PutResult::admitted);
  EXPECT_EQ(l1.get("k")->value, "from redis");
}

TEST_F(L1TicketTest, InvalidationBetweenBeginLoadAndFillKeepsTheReplyOut) {
  L1 l1(options(), clock_);
  const auto ticket = l1.begin_load("k");
  EXPECT_FALSE(l1.erase("k"));  // the tracking push arrives first; nothing cached yet
  EXPECT_EQ(l1.put_if_current(ticket, make("stale reply")), PutResult::stale_ticket);
  EXPECT_EQ(l1.get("k"), nullptr);
  EXPECT_EQ(l1.stats().stale_fills, 1U);
}

TEST_F(L1TicketTest, AWriteBetweenBeginLoadAndFillIsNotOverwrittenByTheOlderReply) {
  L1 l1(options(), clock_);
  const auto ticket = l1.begin_load("k");
  ASSERT_EQ(l1.put("k", make("written")), PutResult::admitted);  // read-your-own-write
  EXPECT_EQ(l1.put_if_current(ticket, make("older reply")), PutResult::stale_ticket);
  EXPECT_EQ(l1.get("k")->value, "written");
}

TEST_F(L1TicketTest, ChangesBeforeBeginLoadDoNotStaleTheTicket) {
  L1 l1(options(), clock_);
  ASSERT_EQ(l1.put("k", make("v1")), PutResult::admitted);
  l1.erase("k");
  const auto ticket = l1.begin_load("k");
  EXPECT_EQ(l1.put_if_current(ticket, make("v2")), PutResult::admitted);
}

TEST_F(L1TicketTest, FenceStalesEveryOutstandingTicketAndEmptiesL1) {
  L1 l1(options(), clock_);
  ASSERT_EQ(l1.put("cached", make("v")), PutResult::admitted);
  const auto a = l1.begin_load("a");
  const auto b = l1.begin_load("b");
  l1.fence();
  EXPECT_EQ(l1.entries(), 0U);
  EXPECT_EQ(l1.put_if_current(a, make("a")), PutResult::stale_ticket);
  EXPECT_EQ(l1.put_if_current(b, make("b")), PutResult::stale_ticket);
  const auto after = l1.begin_load("a");
  EXPECT_EQ(l1.put_if_current(after, make("a")), PutResult::admitted);
}

TEST_F(L1TicketTest, ClearAndEraseIfStaleOutstandingTickets) {
  L1 l1(options(), clock_);
  const auto a = l1.begin_load("a");
  l1.clear();
  EXPECT_EQ(l1.put_if_current(a, make("a")), PutResult::stale_ticket);
  const auto b = l1.begin_load("b");
  l1.erase_if([](std::string_view, const Entry&) { return false; });
  EXPECT_EQ(l1.put_if_current(b, make("b")), PutResult::stale_ticket);
}

TEST_F(L1TicketTest, AFillNeverOutlivesAnInvalidationThatCompletedBeforeIt) {
  // "Redis" holds a version; a writer bumps it, then invalidates L1 (as a tracking push would).
  // Loaders take a ticket, read the version, then fill. Whenever an invalidation of version v
  // has completed, L1 may hold only versions >= v.
  L1 l1(options(), clock_);
  std::atomic<int> redis{0};
  std::atomic<int> invalidated{0};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::thread writer([&] {
    for (int v = 1; v <= 20000; ++v) {
      redis.store(v);
      l1.erase("k");
      invalidated.store(v);
    }
    stop.store(true);
  });
  std::thread loader([&] {
    while (!stop.load()) {
      const auto ticket = l1.begin_load("k");
      (void)l1.put_if_current(ticket, make(std::to_string(redis.load())));
    }
  });
  while (!stop.load()) {
    const int floor = invalidated.load();
    if (const auto e = l1.get("k"); e != nullptr && std::stoi(e->value) < floor) {
      violations.fetch_add(1);
    }
  }
  writer.join();
  loader.join();
  EXPECT_EQ(violations.load(), 0);
  if (const auto e = l1.get("k")) {
    EXPECT_EQ(std::stoi(e->value), 20000);
  }
}

}  // namespace
}  // namespace tiercache::cache
