#pragma once
// BlockingClient: a Client for code that is not asynchronous (tools, tests, start-up checks).
// It owns an io_context and one thread that runs it; exec() hands the request to that thread
// and waits for the reply (asio::use_future, the shape of Boost.Redis's sync_connection.hpp).
// Use: redis::BlockingClient redis(*redis::parse_url(url));
//      Result<resp::Reply> r = redis.command("GET", "key");
// Thread-safety: safe from any thread, except the client's own (a handler calling exec() would
// wait for itself: that throws std::logic_error). Each call blocks at most about the request
// timeout (Config::request_timeout), as the Client guarantees.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/config.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include <memory>
#include <string_view>

namespace tiercache::redis {

class Client;

class BlockingClient {
 public:
  // Starts the thread and the Client (which connects in the background).
  explicit BlockingClient(Config config);
  // Stops the Client (requests in progress complete with Errc::stopped) and joins the thread.
  ~BlockingClient();

  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Sends the request and waits for its reply. A Redis error reply is a Reply with is_error();
  // the error_code is a redis::Errc (timeout, lost link, ...).
  [[nodiscard]] Result<resp::Reply> exec(resp::Request request);

  // exec() of one command: redis.command("SET", key, value, "PX", 5000).
  template <class... Args>
  [[nodiscard]] Result<resp::Reply> command(std::string_view name, const Args&... args) {
    resp::Request request;
    request.push(name, args...);
    return exec(std::move(request));
  }

  // The asynchronous client underneath, for the occasional async call or handler.
  Client& client() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tiercache::redis
