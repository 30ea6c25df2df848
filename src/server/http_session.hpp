#pragma once
// The state one HttpServer shares with its connections, and the connection coroutine itself
// (http_session.cpp): read a request within the limits, answer it, repeat while keep-alive.
// Thread-safety: State's atomics and the session set (under mu) from any thread; a Session is
// touched only on its connection thread (its socket's executor, one io_context run by one
// thread: no strand needed).

#include "server/access_log.hpp"
#include "server/config.hpp"
#include "server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace tiercache::server {

// One connection. Its timeouts are one deadline and one timer (the watchdog), not a timer armed
// per read and write as Beast's tcp_stream does: each read or write only moves `deadline`, and
// the watchdog, when it fires, either re-arms for the moved deadline or closes the socket.
struct Session {
  explicit Session(asio::ip::tcp::socket s)
      : socket(std::move(s)), watchdog(socket.get_executor()) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer watchdog;
  std::chrono::steady_clock::time_point deadline{};
  std::string remote;
  // The response's status line and header block, its buffer reused from request to request.
  std::string head;
  // A request has been read and its response is not written yet.
  bool busy = false;
  // The connection loop has ended: the watchdog stops.
  bool ended = false;

  void expires_after(std::chrono::steady_clock::duration d) {
    deadline = std::chrono::steady_clock::now() + d;
  }
  // Shuts the socket down both ways and closes it; pending reads and writes end with an error.
  void close();
};

struct HttpServer::State {
  State(asio::any_io_executor ex, std::vector<asio::any_io_executor> conn_executors, Limits l,
        Handler h, std::shared_ptr<AccessLog> a)
      : executor(ex),
        connection_executors(std::move(conn_executors)),
        limits(l),
        handler(std::move(h)),
        log(std::move(a)),
        acceptor(ex),
        timer_strand(asio::make_strand(ex)),
        drain_timer(timer_strand) {}

  asio::any_io_executor executor;
  // One per connection thread; the accept loop deals sockets to them in turn.
  const std::vector<asio::any_io_executor> connection_executors;
  const Limits limits;
  const Handler handler;
  const std::shared_ptr<AccessLog> log;
  asio::ip::tcp::acceptor acceptor;
  // The drain timer lives on its own strand: stop() and the last session touch it.
  asio::strand<asio::any_io_executor> timer_strand;
  asio::steady_timer drain_timer;
  std::atomic<bool> drained{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};

  std::mutex mu;
  std::set<std::shared_ptr<Session>> sessions;  // guarded by mu
  std::function<void()> on_drained;             // guarded by mu

  // Closes the session's socket on its thread if it is idle (or always, when `force`).
  static void close_if_idle(std::shared_ptr<Session> session, bool force);
  // Called by a session as it ends; runs on_drained when stopping and it was the last.
  static void session_ended(const std::shared_ptr<State>& state,
                            const std::shared_ptr<Session>& session);
};

// The accept loop and one connection's loop; both end when the server stops.
asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> state);
asio::awaitable<void> run_session(std::shared_ptr<HttpServer::State> state,
                                  std::shared_ptr<Session> session);

}  // namespace tiercache::server
