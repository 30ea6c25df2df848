#pragma once
// Connection: one pipelined, self-healing link to a Redis server (TCP, unix socket or TLS).
// Commands issued while a write is in flight leave together in the next single write; replies
// complete their callers in order. Push messages go to the push handler, never to a caller.
// On connect: HELLO 3 (with AUTH and SETNAME; RESP2 fallback), SELECT. On a drop: every request
// in flight completes with an error, listeners hear it, and it reconnects with jittered backoff.
// Use: Connection conn(ex, cfg); conn.start(); auto r = co_await conn.exec(std::move(req));
// Thread-safety: bound to its own strand; callable from any thread (calls hop onto the strand).

#include "tiercache/redis/any_client.hpp"

#include <memory>

namespace tiercache::redis {

struct ConnectionStats {
  std::uint64_t requests = 0;    // completed requests, with or without an error
  std::uint64_t writes = 0;      // socket writes; requests / writes is the pipelining factor
  std::uint64_t reconnects = 0;  // connections made after the first
  std::uint64_t timeouts = 0;    // requests that ended with reply_timeout
  std::size_t pending = 0;       // requests waiting or in flight now
  bool connected = false;
  int protocol = 0;  // 3 or 2 while connected
};

class Connection final : public AnyClient {
 public:
  // `index` names this link in LinkId (a Client numbers its links).
  Connection(executor_type executor, Config config, std::size_t index = 0);
  // Stops the link; requests in progress complete with Errc::stopped.
  ~Connection() override;

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  executor_type get_executor() override;
  void start() override;
  void stop() override;
  void set_push_handler(PushHandler handler) override;
  void set_link_handler(LinkHandler handler) override;
  const Config& config() const noexcept override;

  // A snapshot, taken on the strand. Safe from any thread.
  ConnectionStats stats() const;

 protected:
  void do_exec(resp::Request request, ExecHandler handler) override;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with its reader, writer and timers
};

}  // namespace tiercache::redis
