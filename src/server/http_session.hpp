#pragma once
// The state one HttpServer shares with its connections, and the connection coroutine itself
// (http_session.cpp): read a request within the limits, answer it, repeat while keep-alive.
// Thread-safety: State's atomics and the session set (under mu) from any thread; a Session's
// stream and `busy` only on its strand.

#include "server/access_log.hpp"
#include "server/config.hpp"
#include "server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <set>

namespace tiercache::server {

struct Session {
  explicit Session(asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  boost::beast::tcp_stream stream;
  std::string remote;
  // A request has been read and its response is not written yet. Strand only.
  bool busy = false;
};

struct HttpServer::State {
  State(asio::any_io_executor ex, Limits l, Handler h, std::shared_ptr<AccessLog> a)
      : executor(ex),
        limits(l),
        handler(std::move(h)),
        log(std::move(a)),
        acceptor(ex),
        timer_strand(asio::make_strand(ex)),
        drain_timer(timer_strand) {}

  asio::any_io_executor executor;
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

  // Closes the session's socket on its strand if it is idle (or always, when `force`).
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
