#include "server/http_server.hpp"

#include "server/http_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace tiercache::server {

HttpServer::HttpServer(asio::any_io_executor executor, Limits limits, Handler handler,
                       std::shared_ptr<AccessLog> log)
    : state_(std::make_shared<State>(executor, limits, std::move(handler), std::move(log))) {}

HttpServer::~HttpServer() {
  // The owner stops the server (and waits for `done`) before destroying it; this only makes
  // sure no new connection is accepted if it did not.
  state_->stopping = true;
  boost::system::error_code ec;
  state_->acceptor.close(ec);
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

void HttpServer::start() { asio::co_spawn(state_->executor, accept_loop(state_), asio::detached); }

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
  auto ex = session->stream.get_executor();
  asio::post(ex, [session = std::move(session), force] {
    if (force || !session->busy) {
      boost::system::error_code ec;
      session->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      session->stream.close();
    }
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
