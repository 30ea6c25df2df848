#include "server/http_server.hpp"

#include "server/http_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tiercache::server {

namespace {

std::vector<std::unique_ptr<IoContext>> make_contexts(std::size_t n) {
  std::vector<std::unique_ptr<IoContext>> out;
  for (std::size_t i = 0; i < std::max<std::size_t>(n, 1); ++i) {
    // Concurrency hint 1: one thread runs it, so what that thread posts to itself goes through
    // its private queue; posts from other threads (a Redis reply) still take the lock.
    out.push_back(std::make_unique<IoContext>(1));
  }
  return out;
}

std::vector<asio::any_io_executor> executors_of(
    const std::vector<std::unique_ptr<IoContext>>& contexts) {
  std::vector<asio::any_io_executor> out;
  for (const auto& c : contexts) out.emplace_back(c->get_executor());
  return out;
}

}  // namespace

HttpServer::HttpServer(asio::any_io_executor executor, std::size_t threads, Limits limits,
                       Handler handler, std::shared_ptr<AccessLog> log)
    : contexts_(make_contexts(threads)),
      state_(std::make_shared<State>(executor, executors_of(contexts_), limits, std::move(handler),
                                     std::move(log))) {}

HttpServer::~HttpServer() {
  // The owner stops the server, joins it and destroys what is left (Daemon::stop) before
  // destroying it; this only makes sure no connection thread outlives it if it did not.
  state_->stopping = true;
  boost::system::error_code ec;
  state_->acceptor.close(ec);
  join(std::chrono::seconds(5));
  destroy_pending_handlers();
  std::lock_guard lock(state_->mu);
  state_->sessions.clear();
}

bool HttpServer::join(std::chrono::milliseconds bound) {
  std::lock_guard lock(join_mu_);
  if (threads_.empty()) return true;
  // Without their guards the contexts stop once nothing is left to run: the connections are
  // gone by now, so what is left is work their handlers started (a cache refresh, its upstream
  // call), which the owner has told to end (closed upstreams, stopped Redis clients).
  guards_.clear();
  const auto until = std::chrono::steady_clock::now() + bound;
  bool forced = false;
  for (auto& c : contexts_) {
    while (!c->stopped() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!c->stopped()) {
      c->stop();
      forced = true;
    }
  }
  if (forced) {
    spdlog::warn("HTTP connection threads still busy {} ms after the drain: stopped them",
                 bound.count());
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  return !forced;
}

void HttpServer::destroy_pending_handlers() {
  std::lock_guard lock(join_mu_);
  if (!threads_.empty()) return;  // REQUIRES join() first: never under a running thread
  for (auto& c : contexts_) c->destroy_pending_handlers();
}

bool HttpServer::stopping() const noexcept { return state_->stopping.load(); }
std::size_t HttpServer::connections() const noexcept { return state_->connections.load(); }
std::size_t HttpServer::in_flight() const noexcept { return state_->in_flight.load(); }

void HttpServer::listen(const std::string& host, std::uint16_t port) {
  const auto address = asio::ip::make_address(host);
  const asio::ip::tcp::endpoint endpoint(address, port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor.local_endpoint().port();
}

void HttpServer::start() {
  for (auto& c : contexts_) {
    guards_.emplace_back(c->get_executor());
    threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  }
  asio::co_spawn(state_->executor, accept_loop(state_), asio::detached);
}

void HttpServer::stop(std::function<void()> done) {
  auto state = state_;
  if (state->stopping.exchange(true)) return;
  std::vector<std::shared_ptr<Session>> sessions;
  bool none_left = false;
  {
    std::lock_guard lock(state->mu);
    state->on_drained = std::move(done);
    sessions.assign(state->sessions.begin(), state->sessions.end());
    none_left = state->sessions.empty();
  }
  // The acceptor belongs to the accept loop's executor: close it there.
  asio::post(state->executor, [state] {
    boost::system::error_code ec;
    state->acceptor.close(ec);
  });
  for (auto& s : sessions) State::close_if_idle(s, false);
  if (none_left) {
    std::function<void()> cb;
    {
      std::lock_guard lock(state->mu);
      cb = std::move(state->on_drained);
      state->on_drained = nullptr;
    }
    if (cb) asio::post(state->executor, std::move(cb));
    return;
  }
  asio::post(state->timer_strand, [state] {
    if (state->drained) return;
    state->drain_timer.expires_after(state->limits.drain_timeout);
    state->drain_timer.async_wait([state](boost::system::error_code ec) {
      if (ec) return;
      std::vector<std::shared_ptr<Session>> left;
      {
        std::lock_guard lock(state->mu);
        left.assign(state->sessions.begin(), state->sessions.end());
      }
      if (!left.empty()) {
        spdlog::warn("drain timeout: closing {} connection(s) with requests still in flight",
                     left.size());
      }
      for (auto& s : left) State::close_if_idle(s, true);
    });
  });
}

void HttpServer::State::close_if_idle(std::shared_ptr<Session> session, bool force) {
  auto ex = session->socket.get_executor();
  asio::post(ex, [session = std::move(session), force] {
    if (force || !session->busy) session->close();
  });
}

void HttpServer::State::session_ended(const std::shared_ptr<State>& state,
                                      const std::shared_ptr<Session>& session) {
  std::function<void()> cb;
  {
    std::lock_guard lock(state->mu);
    state->sessions.erase(session);
    state->connections = state->sessions.size();
    if (state->stopping && state->sessions.empty() && state->on_drained) {
      cb = std::move(state->on_drained);
      state->on_drained = nullptr;
    }
  }
  if (cb) {
    state->drained = true;
    asio::post(state->timer_strand, [state] { state->drain_timer.cancel(); });
    asio::post(state->executor, std::move(cb));
  }
}

}  // namespace tiercache::server
