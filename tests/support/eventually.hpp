#pragma once
// eventually(): waits for something another thread or process makes true, polling, bounded, so a
// test that waits for a side effect (a drain, an invalidation, a breaker opening) fails instead
// of hanging. Not a timing assertion: the bound is only how long a failure takes to report.
// Use: ASSERT_TRUE(eventually([&] { return server.closed() == 1; }));
//      EXPECT_TRUE(eventually([&] { return state() == "open"; }, 15s, 100ms));  // dear polls
// Thread-safety: calls `done` on the calling thread only.

#include <chrono>
#include <thread>

namespace tiercache::test {

// Polls `done` every `step` until it holds (true) or `limit` passes (false). Polls once more at
// the bound, so a condition that turned true during the last sleep is not reported as a failure.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(10),
                std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(step);
  }
  return true;
}

}  // namespace tiercache::test
