#pragma once
// Helpers shared by the cache_*_test files: run a cache coroutine to completion from a test
// thread (with a deadline), named loaders (a capturing lambda must not be a coroutine), a
// tracking client on a test server and a Cache on one, and waiting on a condition with a
// deadline.

#include "tiercache/cache/cache.hpp"
#include "tiercache/redis/client.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

namespace tiercache::test {

// Runs `aw` on `ex` and waits for it; a hang past `limit` throws (failing the test).
template <class T>
T run(asio::any_io_executor ex, asio::awaitable<T> aw, std::chrono::milliseconds limit = 20s) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  asio::co_spawn(ex, std::move(aw), [promise](std::exception_ptr e, T value) {
    if (e) {
      promise->set_exception(e);
    } else {
      promise->set_value(std::move(value));
    }
  });
  if (future.wait_for(limit) != std::future_status::ready) {
    throw std::runtime_error("cache operation did not complete in time");
  }
  return future.get();
}

// Starts `aw` on `ex`; the future holds its outcome.
template <class T>
std::future<T> start(asio::any_io_executor ex, asio::awaitable<T> aw) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  asio::co_spawn(ex, std::move(aw), [promise](std::exception_ptr e, T value) {
    if (e) {
      promise->set_exception(e);
    } else {
      promise->set_value(std::move(value));
    }
  });
  return future;
}

// A client that tracks what it reads (redis::Config::client_tracking); with `optin`, only what
// a command right after CLIENT CACHING YES reads (tracking_optin).
inline std::shared_ptr<redis::Client> tracking_client(asio::any_io_executor ex,
                                                      const RedisServer& server,
                                                      bool optin = false) {
  auto config = server.config();
  config.client_tracking = true;
  config.tracking_optin = optin;
  return std::make_shared<redis::Client>(ex, config);
}

// A Cache on a tracking_client, returned once its tracking is up (a failed wait fails the test).
inline std::unique_ptr<cache::Cache> tracked_cache(asio::any_io_executor ex,
                                                   const RedisServer& server,
                                                   cache::Options options = {},
                                                   bool optin = false) {
  auto cache =
      std::make_unique<cache::Cache>(tracking_client(ex, server, optin), std::move(options));
  EXPECT_TRUE(eventually([&] { return cache->tracking(); })) << "tracking never came up";
  return cache;
}

// Whether cache.get(key) answers a value (from any tier).
inline bool hits(asio::any_io_executor ex, cache::Cache& cache, const std::string& key) {
  auto r = run(ex, cache.get(key));
  return r && r->hit();
}

// A loader that counts its calls, waits `delay`, then answers `value`.
inline asio::awaitable<Result<std::string>> counting_loader(std::shared_ptr<std::atomic<int>> calls,
                                                            std::string value,
                                                            std::chrono::milliseconds delay) {
  calls->fetch_add(1);
  if (delay.count() > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return value;
}

inline asio::awaitable<Result<std::string>> throwing_loader(
    std::shared_ptr<std::atomic<int>> calls) {
  calls->fetch_add(1);
  throw std::runtime_error("upstream said 503");
  co_return std::string();
}

inline cache::Loader counting(std::shared_ptr<std::atomic<int>> calls, std::string value,
                              std::chrono::milliseconds delay = 0ms) {
  return [calls, value, delay] { return counting_loader(calls, value, delay); };
}

inline cache::Loader throwing(std::shared_ptr<std::atomic<int>> calls) {
  return [calls] { return throwing_loader(calls); };
}

}  // namespace tiercache::test
