// L1 from several threads: the byte bound holds throughout a long random workload, and the
// accounting balances when the threads are done.
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

TEST(L1ConcurrencyTest, NeverExceedsItsByteBoundUnderARandomMultiThreadedWorkload) {
  ManualClock clock;
  L1Options options;
  options.max_bytes = 512 << 10;
  options.shards = 2;
  std::atomic<std::int64_t> listener_calls{0};
  options.on_removal = [&](std::string_view, const std::shared_ptr<const Entry>&, RemovalCause) {
    listener_calls.fetch_add(1, std::memory_order_relaxed);
  };
  L1 l1(options, clock);
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 40000;
  std::atomic<bool> over{false};
  std::atomic<int> running{kThreads};
  std::atomic<std::uint64_t> admitted{0};
  std::atomic<std::uint64_t> rejected{0};
  auto count = [&](PutResult r) {
    if (r == PutResult::admitted) admitted.fetch_add(1);
    if (r == PutResult::rejected) rejected.fetch_add(1);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      std::uniform_int_distribution<int> op(0, 99);
      std::uniform_int_distribution<int> key(0, 4000);
      std::uniform_int_distribution<std::size_t> size(0, 4000);
      std::uniform_int_distribution<int> ttl(1, 120);
      std::uniform_int_distribution<int> prio(0, 2);
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string k = "k" + std::to_string(key(rng));
        const int o = op(rng);
        if (o < 50) {
          (void)l1.get(k);
        } else if (o < 85) {
          Entry e;
          e.value.assign(size(rng), 'x');
          if (o % 4 == 0) e.tags = {"tag:" + std::to_string(o), std::string(50, 't')};
          e.stale_until = clock.wall_now() + std::chrono::seconds(ttl(rng));
          e.priority = static_cast<Priority>(prio(rng));
          count(l1.put(k, std::make_shared<const Entry>(std::move(e))));
        } else if (o < 92) {
          const auto ticket = l1.begin_load(k);
          Entry e;
          e.value.assign(size(rng), 'y');
          e.stale_until = clock.wall_now() + 30s;
          count(l1.put_if_current(ticket, std::make_shared<const Entry>(std::move(e))));
        } else if (o < 98) {
          l1.erase(k);
        } else if (o == 98) {
          clock.advance(1s);
        } else if (i % 1000 == 99) {
          l1.erase_if([](std::string_view key_text, const Entry&) { return key_text.size() == 3; });
        }
        if (l1.size_bytes() > options.max_bytes) over.store(true);
      }
      running.fetch_sub(1);
    });
  }
  std::size_t checks = 0;
  while (running.load() > 0) {
    if (l1.size_bytes() > options.max_bytes) over.store(true);
    ++checks;
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(over.load());
  EXPECT_GT(checks, 0U);
  EXPECT_LE(l1.size_bytes(), options.max_bytes);

  // Conservation: every node that entered a shard is either still there or left exactly once,
  // and the listener heard each departure.
  const L1Stats st = l1.stats();
  const auto removals = st.evicted_size + st.evicted_expired + st.removed_explicit + st.replaced;
  EXPECT_EQ(static_cast<std::uint64_t>(listener_calls.load()), removals);
  EXPECT_EQ(admitted.load(), st.puts);
  EXPECT_EQ(admitted.load() + rejected.load(), removals + l1.entries());
  l1.clear();
  EXPECT_EQ(l1.entries(), 0U);
}

}  // namespace
}  // namespace tiercache::cache
