#pragma once
// Helpers shared by the ratelimit/ tests: an io_context on its own threads, running a coroutine
// to completion with a deadline, and a Limiter per policy over one redis::Client.

#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/redis/client.hpp"

#include "tests/support/eventually.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tiercache::ratelimit::test {

using namespace std::chrono_literals;
using tiercache::test::eventually;

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

  // Runs `body` on the io_context and waits for it; a hang past `limit` throws (fails the test).
  template <class T>
  T run(asio::awaitable<T> body, std::chrono::milliseconds limit = 10s) {
    auto done = asio::co_spawn(io_, std::move(body), asio::use_future);
    if (done.wait_for(limit) != std::future_status::ready) {
      throw std::runtime_error("the test's coroutine did not finish in time");
    }
    return done.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

// A started client; stopped on destruction.
inline std::shared_ptr<redis::Client> make_client(asio::any_io_executor ex, redis::Config cfg) {
  cfg.reconnect_max = 200ms;
  auto client = std::make_shared<redis::Client>(std::move(ex), std::move(cfg));
  client->start();
  return client;
}

}  // namespace tiercache::ratelimit::test
