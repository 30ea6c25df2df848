#pragma once
// Helpers shared by the redis/ tests: an io_context on its own threads, a blocking exec with a
// deadline, and waiting on a condition with a deadline (never a fixed sleep).

#include "tiercache/redis/any_client.hpp"
#include "tiercache/redis/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace tiercache::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// An io_context run by `threads` threads until destruction.
class IoThreads {
 public:
  explicit IoThreads(int threads = 1) : guard_(io_.get_executor()) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  asio::io_context& io() { return io_; }
  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

template <class... Args>
resp::Request command(std::string_view name, const Args&... args) {
  resp::Request req;
  req.push(name, args...);
  return req;
}

using Outcome = std::tuple<error_code, resp::Reply>;

// Starts a request; the future holds its (error_code, reply). (Boost 1.81 cannot combine
// as_tuple with use_future.)
inline std::future<Outcome> exec_async(redis::AnyClient& client, resp::Request req) {
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto future = promise->get_future();
  client.async_exec(std::move(req), [promise](error_code ec, resp::Reply reply) {
    promise->set_value(Outcome{ec, std::move(reply)});
  });
  return future;
}

// Runs a request and waits for its outcome; a hang past `limit` fails the test.
inline Result<resp::Reply> exec_sync(redis::AnyClient& client, resp::Request req,
                                     std::chrono::milliseconds limit = 10s) {
  auto future = exec_async(client, std::move(req));
  if (future.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "request did not complete within " << limit.count() << " ms";
    return asio::error::timed_out;
  }
  auto [ec, reply] = future.get();
  if (ec) return ec;
  return std::move(reply);
}

// Polls `condition` every few milliseconds until it holds or `limit` passes.
inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Retries a request until it succeeds (a client reconnecting by itself), within `limit`.
inline Result<resp::Reply> exec_until_ok(redis::AnyClient& client, const resp::Request& req,
                                         std::chrono::milliseconds limit) {
  Result<resp::Reply> last = asio::error::timed_out;
  wait_until(
      [&] {
        last = exec_sync(client, req, limit);
        return last.has_value() && !last->is_error();
      },
      limit);
  return last;
}

}  // namespace tiercache::test
