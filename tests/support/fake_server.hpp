#pragma once
// FakeServer: a loopback TCP server that says whatever a test scripts, for protocol-fault tests
// (garbage replies, half replies, silence, dropped links). Each chunk of bytes a client sends is
// passed to the handler and its result written back; TCP may merge or split a client's writes,
// so a handler that answers per command parses the chunk with parse_commands().
// Use: FakeServer fake([](std::string_view in) { return FakeServer::reply_each(in, "+OK\r\n"); });
//      redis::Config cfg = fake.config(); ... EXPECT_EQ(fake.connections_accepted(), 2u);
// Thread-safety: the handler runs on the server's own thread, one call at a time; all public
// members are safe from any thread. The destructor closes every connection and joins the thread.

#include "tiercache/redis/config.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tiercache::test {

class FakeServer {
 public:
  // Bytes received on one connection -> bytes to write back on it ("" writes nothing).
  using Handler = std::function<std::string(std::string_view received)>;

  struct Options {
    Handler handler{};               // Default: none, nothing is answered
    std::string greeting{};          // written as soon as a connection is accepted
    bool close_on_accept = false;    // close right after the greeting
    bool close_after_reply = false;  // close after each handler call and its reply
    bool never_answer = false;       // read and discard everything; the handler is not called
  };

  explicit FakeServer(Handler handler);
  explicit FakeServer(Options options);
  ~FakeServer();

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // The port on 127.0.0.1, listening from construction on (no race with other processes).
  std::uint16_t port() const { return port_; }
  // A Config for host 127.0.0.1 and port(); everything else at its default.
  redis::Config config() const;

  std::size_t connections_accepted() const { return accepted_.load(); }
  std::size_t connections_open() const { return open_.load(); }
  // Waits until at least n connections were accepted in total; false on timeout.
  bool wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const;
  // Every byte received so far, on all connections, in arrival order.
  std::string received() const;
  // Waits until received() contains `needle`; false on timeout.
  bool wait_for_received(std::string_view needle, std::chrono::milliseconds timeout) const;
  // Closes every open connection now (the listener stays); returns once they are closed.
  void close_all();

  // Splits RESP commands (arrays of bulk strings, as clients send them) out of `bytes`;
  // an incomplete trailing command is ignored. {"HELLO", "3"}, {"GET", "k"}, ...
  static std::vector<std::vector<std::string>> parse_commands(std::string_view bytes);
  // `reply` once per command in `bytes`, except HELLO, which gets hello_reply().
  static std::string reply_each(std::string_view bytes, std::string_view reply);
  // What Redis 7 answers to HELLO 3: a RESP3 map (server, version, proto 3, id, mode, role,
  // modules).
  static std::string hello_reply();

 private:
  void run();

  Options options_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // pipe: the owner writes to wake the server thread
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> open_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> close_requests_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::string received_;             // guarded by mu_
  std::uint64_t close_handled_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tiercache::test
