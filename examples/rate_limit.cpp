// rate_limit: seed 004's upstream quotas (flight search 120 per minute, offer details 240, orders
// 30) enforced across processes through Redis, printing what each step decided.
//
//   rate_limit [redis://host:port/db]    (else REDIS_URL, else REDIS_HOST/..., else :6379)
//
// Steps: 150 searches at once against the 120-per-minute limit (exactly 120 pass, the rest are
// told when to retry); a token bucket that lets a burst of 10 through and then refills at its
// rate; a cache whose misses go through the quota (RateLimitedLoader), so hits cost nothing and
// only loads count. Exit status 0 when all went as promised, 1 otherwise, 2 for a bad URL.
#include "tiercache/cache/cache.hpp"
#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/ratelimit/rate_limited_loader.hpp"
#include "tiercache/redis/client.hpp"
#include "tiercache/redis/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

namespace asio = boost::asio;
namespace cache = tiercache::cache;
namespace ratelimit = tiercache::ratelimit;
namespace redis = tiercache::redis;
using namespace std::chrono_literals;

namespace {

std::atomic<int> upstream_calls{0};

asio::awaitable<tiercache::Result<std::string>> fetch_offer() {
  ++upstream_calls;
  co_return std::string(R"({"offer":"AA100","price":412.5})");
}

// Waits until `count` reaches `n`, polling every millisecond.
asio::awaitable<void> wait_for(const std::atomic<int>& count, int n) {
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (count.load() < n) {
    poll.expires_after(1ms);
    co_await poll.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<int> tour(std::shared_ptr<redis::Client> redis, cache::Cache& offers) {
  auto ex = co_await asio::this_coro::executor;
  bool ok = true;

  // 1. Exactness: 150 concurrent searches, limit 120 per minute (sliding log).
  ratelimit::Limiter search(redis, {.algorithm = ratelimit::Algorithm::sliding_log,
                                    .limit = 120,
                                    .window = 1min,
                                    .key_prefix = "demo:ratelimit:"});
  (void)co_await search.reset("flights:search");
  std::atomic<int> admitted{0}, refused{0}, done{0};
  std::atomic<long long> longest_retry_ms{0};
  for (int i = 0; i < 150; ++i) {
    asio::co_spawn(
        ex, search.allow("flights:search"),
        [&](std::exception_ptr e, tiercache::Result<ratelimit::Decision> d) {
          if (!e && d && d->allowed) {
            ++admitted;
          } else if (!e && d) {
            ++refused;
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(d->retry_after).count();
            if (ms > longest_retry_ms.load()) longest_retry_ms.store(ms);
          }
          ++done;
        });
  }
  co_await wait_for(done, 150);
  std::printf(
      "1. 150 searches at once, 120/min:  %d admitted, %d refused (retry after <= %lld s)\n",
      admitted.load(), refused.load(), longest_retry_ms.load() / 1000);
  ok = ok && admitted.load() == 120 && refused.load() == 30;

  // 2. A token bucket: bursts of 10, refilling at 10 per second.
  ratelimit::Limiter orders(redis, {.algorithm = ratelimit::Algorithm::token_bucket,
                                    .limit = 10,
                                    .window = 1s,
                                    .burst = 10,
                                    .key_prefix = "demo:ratelimit:"});
  (void)co_await orders.reset("orders");
  int burst = 0;
  for (int i = 0; i < 15; ++i) {
    auto d = co_await orders.allow("orders");
    if (d && d->allowed) ++burst;
  }
  asio::steady_timer pause(ex, 300ms);
  co_await pause.async_wait(asio::use_awaitable);
  auto later = co_await orders.peek("orders");
  std::printf("2. token bucket, burst 10:          %d of 15 at once; 300 ms later %u available\n",
              burst, later ? later->remaining : 0u);
  ok = ok && burst == 10 && later && later->remaining >= 2;

  // 3. A cache whose loads go through the quota: 50 reads, one upstream call, one unit spent.
  ratelimit::Limiter details(redis,
                             {.limit = 240, .window = 1min, .key_prefix = "demo:ratelimit:"});
  (void)co_await details.reset("offers:details");
  ratelimit::RateLimitedLoader<std::string> guarded(details, "offers:details", fetch_offer,
                                                    {.max_wait = 2s});
  (void)co_await offers.del("AA100");
  for (int i = 0; i < 50; ++i) {
    auto r = co_await offers.get_or_load("AA100", guarded, {.write = {.ttl = 5min}});
    ok = ok && r && r->hit();
  }
  auto used = co_await details.peek("offers:details");
  std::printf("3. 50 cached reads of one offer:    %d upstream call(s), %u of 240 units left\n",
              upstream_calls.load(), used ? used->remaining : 0u);
  ok = ok && upstream_calls.load() == 1 && used && used->remaining == 239;
  co_return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  auto config = argc > 1 ? redis::parse_url(argv[1], &why) : redis::config_from_env(&why);
  if (!config) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 2;
  }
  config->client_tracking = true;
  spdlog::set_level(spdlog::level::err);
  asio::io_context io;
  auto redis = std::make_shared<redis::Client>(io.get_executor(), *config);
  cache::Cache offers(redis, cache::Options{.ns = "demo-offers"});  // starts the client
  int status = 1;
  asio::co_spawn(io, tour(redis, offers), [&](std::exception_ptr error, int result) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
      }
    }
    status = error ? 1 : result;
    io.stop();
  });
  io.run();
  return status;
}
