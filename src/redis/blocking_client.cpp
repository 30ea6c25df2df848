#include "tiercache/redis/blocking_client.hpp"

#include "tiercache/redis/client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

namespace tiercache::redis {

struct BlockingClient::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<Client> client;
  std::promise<void> finished;  // set when io.run() returns
  std::thread thread;
};

BlockingClient::BlockingClient(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->client = std::make_unique<Client>(impl_->io.get_executor(), std::move(config));
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->io.run();
    impl->finished.set_value();
  });
  impl_->client->start();
}

BlockingClient::~BlockingClient() {
  auto finished = impl_->finished.get_future();
  impl_->client->stop();
  impl_->work.reset();
  // With the Client stopped, run() returns once the last completions have run. Should a
  // background operation outlive stop(), do not hang the caller: stop the loop after a while.
  if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("redis: BlockingClient: work still pending 5 s after stop; stopping the loop");
    impl_->io.stop();
  }
  impl_->thread.join();
  impl_->client.reset();
}

Result<resp::Reply> BlockingClient::exec(resp::Request request) {
  if (impl_->io.get_executor().running_in_this_thread()) {
    throw std::logic_error("BlockingClient::exec called from the client's own thread");
  }
  auto reply = impl_->client->async_exec(
      std::move(request), asio::use_future([](error_code ec, resp::Reply r) -> Result<resp::Reply> {
        if (ec) return ec;
        return r;
      }));
  return reply.get();
}

Client& BlockingClient::client() noexcept { return *impl_->client; }

}  // namespace tiercache::redis
