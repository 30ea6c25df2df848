#pragma once
// Client: the handle to one Redis server. Spreads requests over Config::connections pipelined
// links and gives commands that would stall a shared pipeline (blocking reads, WATCH,
// RequestFlags::exclusive) a link of their own, taken from a small pool.
// Use: redis::Client client(io.get_executor(), *redis::parse_url(url)); client.start();
//      Result<resp::Reply> r = co_await client.exec(std::move(req));
// Thread-safety: safe from any thread. For a blocking API, see redis/blocking_client.hpp.

#include "tiercache/redis/any_client.hpp"
#include "tiercache/redis/connection.hpp"

#include <memory>
#include <vector>

namespace tiercache::redis {

class Client final : public AnyClient {
 public:
  Client(executor_type executor, Config config);
  ~Client() override;

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  executor_type get_executor() override;
  void start() override;
  void stop() override;
  void set_push_handler(PushHandler handler) override;
  void set_link_handler(LinkHandler handler) override;
  const Config& config() const noexcept override;

  // Per shared link, in LinkId::index order.
  std::vector<ConnectionStats> stats() const;

 protected:
  void do_exec(resp::Request request, ExecHandler handler) override;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tiercache::redis
