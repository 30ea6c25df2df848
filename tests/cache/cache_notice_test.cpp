// detail::Notice, the one-shot event single-flight joiners and fleet-lock waiters await: a wait
// ends when the notice is set, at its deadline when it is not, at once when set before, and a
// waiting coroutine is freed with its io_context even when it owns the notice.

#include "cache/notice.hpp"
#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

namespace tiercache::cache::detail {
namespace {

using namespace std::chrono_literals;

asio::awaitable<bool> wait_on(std::shared_ptr<Notice> notice, std::chrono::milliseconds timeout) {
  co_return co_await notice->wait_for(timeout);
}

TEST(NoticeTest, AWaitEndsAtItsDeadlineWhenNothingSetsIt) {
  test::IoThreads io;
  auto notice = std::make_shared<Notice>();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(test::run(io.executor(), wait_on(notice, 100ms)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(NoticeTest, SettingItWakesEveryWaiter) {
  test::IoThreads io(2);
  auto notice = std::make_shared<Notice>();
  std::vector<std::future<bool>> waits;
  for (int i = 0; i < 100; ++i) waits.push_back(test::start(io.executor(), wait_on(notice, 10s)));
  notice->set();
  for (auto& w : waits) {
    ASSERT_EQ(w.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(w.get());
  }
  EXPECT_TRUE(test::run(io.executor(), wait_on(notice, 10s)));  // set before: at once
}

TEST(NoticeTest, AWaiterThatOwnsItsNoticeIsFreedWithTheContext) {
  std::weak_ptr<Notice> watch;
  {
    test::IoThreads io;
    auto notice = std::make_shared<Notice>();
    watch = notice;
    auto never = test::start(io.executor(), wait_on(notice, 1h));
    ASSERT_TRUE(test::eventually([&] { return notice->waiting() == 1; }));
    notice.reset();  // the waiting frame is now its only owner
  }
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace tiercache::cache::detail
