#pragma once
// Many limiter requests in flight at once, tallied per key: the exactness tests' load
// (limiter_concurrency_test.cpp on one server, limiter_cluster_test.cpp on a cluster).
// Use: auto counts = run_concurrently(io.io(), limiters, {"a", "b"}, 1000);
//      EXPECT_EQ(counts["a"].allowed, 100);

#include "tiercache/ratelimit/limiter.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tiercache::ratelimit::test {

struct Counts {
  int allowed = 0;
  int denied = 0;
  int failed = 0;  // no decision from Redis (an error, or a fallback decided it)
};

struct Tallies {
  std::mutex mu;
  std::map<std::string, Counts> by_key;
  int pending = 0;
  std::promise<void> done;
};

inline asio::awaitable<void> one_request(Limiter limiter, std::string key,
                                         std::shared_ptr<Tallies> tallies) {
  Result<Decision> d = co_await limiter.allow(key);
  std::lock_guard lock(tallies->mu);
  Counts& c = tallies->by_key[key];
  if (!d || d->source != Source::redis) {
    ++c.failed;
  } else if (d->allowed) {
    ++c.allowed;
  } else {
    ++c.denied;
  }
  if (--tallies->pending == 0) tallies->done.set_value();
}

// `per_key` requests for each of `keys`, taking `limiters` in turn (as several processes
// would), all spawned before any completes; the outcome per key. Fails the test when they take
// more than a minute.
inline std::map<std::string, Counts> run_concurrently(asio::io_context& io,
                                                      const std::vector<Limiter>& limiters,
                                                      const std::vector<std::string>& keys,
                                                      int per_key) {
  auto tallies = std::make_shared<Tallies>();
  tallies->pending = per_key * static_cast<int>(keys.size());
  auto finished = tallies->done.get_future();
  std::size_t turn = 0;
  for (int i = 0; i < per_key; ++i) {
    for (const auto& key : keys) {
      asio::co_spawn(io, one_request(limiters[turn++ % limiters.size()], key, tallies),
                     asio::detached);
    }
  }
  EXPECT_EQ(finished.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  std::lock_guard lock(tallies->mu);
  return tallies->by_key;
}

}  // namespace tiercache::ratelimit::test
