#pragma once
// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast. One acceptor; each connection is a
// coroutine on its own strand of the shared io_context, so N threads serve N connections at
// once. Enforces Limits (header and body size, read/idle/write timeouts, max connections) and
// answers their violations with JSON errors (431, 413, 503) before closing.
// Shutdown (stop): stop accepting, close idle connections at once, let requests in flight
// finish and answer (with Connection: close) for up to drain_timeout, then close the rest.
// Use: HttpServer s(io.get_executor(), limits, handler, log); s.listen("127.0.0.1", 0);
//      s.start(); ... s.stop([] { /* all connections gone */ });
// Thread-safety: listen/start from one thread before run; stop() and the accessors from any.

#include "server/access_log.hpp"
#include "server/config.hpp"
#include "server/http_types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace tiercache::server {

namespace asio = boost::asio;

// Answers one request. A non-coroutine callable returning a coroutine (a capturing lambda must
// not itself be a coroutine). It may throw: the client then gets 500 internal.
using Handler = std::function<asio::awaitable<Response>(Request)>;

class HttpServer {
 public:
  HttpServer(asio::any_io_executor executor, Limits limits, Handler handler,
             std::shared_ptr<AccessLog> log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Throws boost::system::system_error (address in use, bad address).
  void listen(const std::string& host, std::uint16_t port);
  // The bound port (useful after listening on port 0).
  std::uint16_t port() const noexcept { return port_; }
  // Starts accepting.
  void start();
  // Begins the graceful shutdown; `done` runs (on an executor thread) once no connection is
  // left. Idempotent: later calls' `done` are dropped.
  void stop(std::function<void()> done);

  bool stopping() const noexcept;
  std::size_t connections() const noexcept;
  // Requests read and not yet answered.
  std::size_t in_flight() const noexcept;

  // Shared with the connection coroutines, which may outlive the server object briefly.
  struct State;

 private:
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
};

}  // namespace tiercache::server
