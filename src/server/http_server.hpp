#pragma once
// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast's parser. N connection threads, each with
// its own io_context; one acceptor hands accepted sockets to them in turn, and a connection lives
// on its thread to the end, so its state needs no strand and no lock (decision 0010). Enforces
// Limits (header and body size, read/idle/write timeouts, max connections) and answers their
// violations with JSON errors (431, 413, 503) before closing.
// Shutdown (stop): stop accepting, close idle connections at once, let requests in flight
// finish and answer (with Connection: close) for up to drain_timeout, then close the rest;
// join() then lets the connection threads run out of work and joins them;
// destroy_pending_handlers() clears what a forced stop left in them.
// Use: HttpServer s(io.get_executor(), 2, limits, handler, log); s.listen("127.0.0.1", 0);
//      s.start(); ... s.stop([] { /* all connections gone */ }); ... s.join(5s);
//      ... (the owner's own io_context stopped) s.destroy_pending_handlers();
// Thread-safety: listen/start from one thread before run; stop(), join() and the accessors from
// any thread but a connection thread (join waits for those).

#include "server/access_log.hpp"
#include "server/config.hpp"
#include "server/http_types.hpp"
#include "server/io_context.hpp"
#include "server/reply.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::server {

namespace asio = boost::asio;

// Answers one request, with either kind of Reply. A non-coroutine callable returning a coroutine
// (a capturing lambda must not itself be a coroutine). It may throw: the client then gets 500
// internal. It runs on the connection's thread; what it awaits may complete elsewhere (Asio
// brings it back).
using Handler = std::function<asio::awaitable<Reply>(Request)>;

class HttpServer {
 public:
  // `executor` runs the accept loop and the drain timer; `threads` (>= 1) connection threads
  // are started by start(), each running an io_context of its own.
  HttpServer(asio::any_io_executor executor, std::size_t threads, Limits limits, Handler handler,
             std::shared_ptr<AccessLog> log);
  ~HttpServer();  // join(5 s) and destroy_pending_handlers() if not done
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Throws boost::system::system_error (address in use, bad address).
  void listen(const std::string& host, std::uint16_t port);
  // The bound port (useful after listening on port 0).
  std::uint16_t port() const noexcept { return port_; }
  // Starts the connection threads and accepting.
  void start();
  // Begins the graceful shutdown; `done` runs (on `executor`) once no connection is left.
  // Idempotent: later calls' `done` are dropped.
  void stop(std::function<void()> done);
  // Lets the connection threads finish what they still run (a refresh the cache started on
  // one, say) and joins them; past `bound`, stops their io_contexts first. Call after stop()'s
  // `done` and while what their coroutines await (Redis, upstreams: `executor`'s context) still
  // runs. Returns false when it had to stop a context: handlers are left in it. Idempotent.
  bool join(std::chrono::milliseconds bound);
  // Destroys the handlers left in the connection threads' io_contexts (coroutine frames, after a
  // join that had to stop them) without running them. Their destructors may reach anything
  // the handler reaches (caches, Redis clients, `executor`'s context): call it after join() and
  // once `executor`'s context is stopped too, while all of those still exist. Idempotent.
  void destroy_pending_handlers();

  bool stopping() const noexcept;
  std::size_t connections() const noexcept;
  // Requests read and not yet answered.
  std::size_t in_flight() const noexcept;

  // Shared with the connection coroutines, which may outlive the server object briefly.
  struct State;

 private:
  using Guard = asio::executor_work_guard<asio::io_context::executor_type>;
  // The connection threads' io_contexts: declared first, destroyed last, after every socket.
  std::vector<std::unique_ptr<IoContext>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
  std::mutex join_mu_;
};

}  // namespace tiercache::server
