// The coroutines of a Connection, all on its strand: run (connect, handshake, session, again),
// the session's reader and writer, and the watchdog.
//
// Writer: sleeps on a timer used as a doorbell; when woken it writes every waiting request with
// one gathered async_write (small payloads copied together, large ones from where they lie),
// while the next batch accumulates in the queue. (What the callers of delivered replies ask
// next leaves from deliver() itself when no write is in progress: Impl::flush.)
// Reader: reads into the Reader's own buffer and parses every complete reply in it before
// reading again, delivering the completions 32 at a time. Watchdog: one timer per link, set
// to the earliest request deadline or the link deadline (oldest written request + link_timeout);
// it completes late requests with reply_timeout and closes a link that stopped answering.
// Connect: one timer bounds resolve, TCP connect, TLS handshake and the Redis handshake; when it
// fires it closes the socket, so whatever step is running fails and reads as connect_timeout.
// Every socket is opened close-on-exec, as Go, Rust and Python open theirs: a child the
// application forks and execs must not inherit the link and hold it open against Redis.

#include "tiercache/redis/error.hpp"

#include "redis/connection_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <tuple>
#include <utility>
#include <variant>

namespace tiercache::redis {
namespace {

// Awaited as an operation, not through use_awaitable: no coroutine frame per read or write.
constexpr auto use_tuple = asio::as_tuple(asio::deferred);
constexpr std::size_t kReadSize = 64 << 10;
// Replies delivered before the writer may send what their callers asked next (see read_loop).
constexpr std::size_t kDeliverSlice = 32;
// A payload from this size on is written from where it lies rather than copied (take_batch).
constexpr std::size_t kGatherMin = 1024;

bool cancelled(asio::cancellation_state state) {
  return state.cancelled() != asio::cancellation_type::none;
}

// Opens `socket` for `protocol` with SOCK_CLOEXEC set at creation (Asio has no option for it,
// and setting it after socket() leaves a window in which another thread may fork).
template <class Socket>
error_code open_close_on_exec(Socket& socket, const typename Socket::protocol_type& protocol) {
  const int fd = ::socket(protocol.family(), protocol.type() | SOCK_CLOEXEC, protocol.protocol());
  if (fd < 0) return error_code(errno, asio::error::get_system_category());
  error_code ec;
  socket.assign(protocol, fd, ec);
  if (ec) ::close(fd);
  return ec;
}

}  // namespace

asio::awaitable<void> Connection::Impl::run(std::shared_ptr<Impl> self) {
  unsigned failures = 0;
  while (phase_ != Phase::stopped) {
    phase_ = Phase::connecting;
    error_code ec = co_await connect();
    if (phase_ == Phase::stopped) break;
    if (ec) {
      spdlog::warn("redis: cannot connect to {}: {}", config_.describe(), ec.message());
      close_transport();
      mux_.fail_waiting(ec);
      deliver();
      const bool needs_a_person =
          ec == Errc::auth_failed || ec == Errc::permission_denied || ec == Errc::tls_failed;
      backoff_error_ = needs_a_person ? ec : make_error_code(Errc::not_connected);
      phase_ = Phase::backing_off;
      retry_timer_.expires_after(backoff(failures++));
      co_await retry_timer_.async_wait(use_tuple);
      continue;
    }
    failures = 0;
    ++generation_;
    if (generation_ > 1) reconnects_.fetch_add(1, std::memory_order_relaxed);
    phase_ = Phase::connected;
    teardown_.clear();
    protocol_.store(link_protocol_, std::memory_order_relaxed);
    notify(LinkEvent::Kind::up, {});
    if (phase_ != Phase::connected) break;  // the handler stopped us

    ec = co_await run_session();
    close_transport();
    out_next_ = out_.size();  // the rest of a batch the lost link may or may not have carried
    writing_ = false;         // the writer may have ended inside its write
    protocol_.store(0, std::memory_order_relaxed);
    if (phase_ == Phase::stopped) {
      ec = Errc::stopped;
    } else if (teardown_) {
      ec = teardown_;
    } else if (ec != Errc::protocol_error) {
      ec = Errc::connection_lost;
    }
    mux_.on_link_lost();
    deliver();
    pending_.store(mux_.pending(), std::memory_order_relaxed);
    notify(LinkEvent::Kind::down, ec);
  }
  (void)self;
}

asio::awaitable<void> Connection::Impl::watchdog(std::shared_ptr<Impl> self) {
  while (phase_ != Phase::stopped) {
    auto next = mux_.next_deadline();
    const auto oldest = mux_.oldest_written_at();
    const bool link_check =
        config_.link_timeout.count() > 0 && phase_ == Phase::connected && !teardown_;
    if (link_check && oldest != Clock::time_point::max()) {
      next = std::min(next, oldest + config_.link_timeout);
    }
    watchdog_at_ = next;
    deadline_timer_.expires_at(next);
    co_await deadline_timer_.async_wait(use_tuple);
    if (phase_ == Phase::stopped) break;
    const auto now = Clock::now();
    if (const auto n = mux_.expire(now); n > 0) {
      timeouts_.fetch_add(n, std::memory_order_relaxed);
      deliver();
      pending_.store(mux_.pending(), std::memory_order_relaxed);
    }
    const auto oldest_now = mux_.oldest_written_at();
    if (link_check && phase_ == Phase::connected && !teardown_ &&
        oldest_now != Clock::time_point::max() && oldest_now + config_.link_timeout <= now) {
      // Each request already timed out; the link itself is now presumed dead.
      teardown_ = Errc::reply_timeout;
      close_transport();
    }
  }
  (void)self;
}

asio::awaitable<error_code> Connection::Impl::connect() {
  reader_.reset();
  tcp_.reset();
  unix_.reset();
  tls_.reset();
  connect_timed_out_ = false;
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->connect_timed_out_ = true;
    self->resolver_.cancel();
    self->close_transport();
  });

  error_code ec;
  if (!config_.unix_socket.empty()) {
    unix_.emplace(strand_);
    ec = open_close_on_exec(*unix_, asio::local::stream_protocol());
    if (!ec) {
      std::tie(ec) = co_await unix_->async_connect(
          asio::local::stream_protocol::endpoint(config_.unix_socket), use_tuple);
    }
    if (!ec) unix_->non_blocking(true, ec);  // write_now must never block the strand
    if (ec) ec = Errc::connect_failed;
    if (!ec) ec = co_await handshake(*unix_);
  } else {
    ec = co_await connect_tcp();
  }
  connect_timer_.cancel();
  if (connect_timed_out_) ec = Errc::connect_timeout;
  co_return ec;
}

asio::awaitable<error_code> Connection::Impl::connect_tcp() {
  auto [rec, endpoints] =
      co_await resolver_.async_resolve(config_.host, std::to_string(config_.port), use_tuple);
  if (rec) co_return Errc::connect_failed;
  asio::ip::tcp::socket* socket = nullptr;
  if (config_.tls.enabled) {
    tls_.emplace(strand_, *ssl_);
    socket = &tls_->next_layer();
  } else {
    tcp_.emplace(strand_);
    socket = &*tcp_;
  }
  // Each address in turn, as asio::async_connect would, on a socket opened close-on-exec.
  error_code cec = asio::error::host_not_found;
  error_code ignored;
  for (const auto& entry : endpoints) {
    if (connect_timed_out_ || phase_ == Phase::stopped) break;
    socket->close(ignored);
    if ((cec = open_close_on_exec(*socket, entry.endpoint().protocol()))) continue;
    std::tie(cec) = co_await socket->async_connect(entry.endpoint(), use_tuple);
    if (!cec) break;
  }
  if (cec) co_return Errc::connect_failed;
  socket->set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!config_.tls.enabled) {
    tcp_->non_blocking(true, ignored);  // write_now must never block the strand
    co_return co_await handshake(*tcp_);
  }

  const std::string& name =
      config_.tls.server_name.empty() ? config_.host : config_.tls.server_name;
  error_code not_ip;
  asio::ip::make_address(name, not_ip);
  // SNI carries host names only (RFC 6066, section 3).
  if (not_ip) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(tls_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(name.c_str()));
  }
  if (config_.tls.verify_peer) tls_->set_verify_callback(asio::ssl::host_name_verification(name));
  auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) {
    spdlog::warn("redis: TLS handshake with {} failed: {}", config_.describe(), hec.message());
    co_return Errc::tls_failed;
  }
  co_return co_await handshake(*tls_);
}

asio::awaitable<error_code> Connection::Impl::run_session() {
  if (unix_) co_return co_await session(*unix_);
  if (tls_) co_return co_await session(*tls_);
  co_return co_await session(*tcp_);
}

template <class Stream>
asio::awaitable<error_code> Connection::Impl::handshake(Stream& stream) {
  auto plan = detail::first_handshake(config_);
  detail::HandshakeOutcome outcome;
  if (auto ec = co_await handshake_round(stream, plan, outcome)) co_return ec;
  if (outcome.fallback) {
    spdlog::info("redis: {} does not speak RESP3 ({}); using RESP2 without client-side caching",
                 config_.describe(), outcome.message);
    plan = detail::resp2_handshake(config_);
    if (auto ec = co_await handshake_round(stream, plan, outcome)) co_return ec;
  }
  if (outcome.ec) {
    spdlog::warn("redis: handshake with {} failed: {}", config_.describe(), outcome.message);
    co_return outcome.ec;
  }
  link_protocol_ = outcome.protocol;
  co_return error_code{};
}

template <class Stream>
asio::awaitable<error_code> Connection::Impl::handshake_round(Stream& stream,
                                                              detail::HandshakePlan& plan,
                                                              detail::HandshakeOutcome& outcome) {
  outcome = detail::HandshakeOutcome{};
  outcome.protocol = plan.hello ? 3 : 2;
  if (plan.request.empty()) co_return error_code{};
  auto payload = plan.request.payload();
  auto [wec, written] =
      co_await asio::async_write(stream, asio::buffer(payload.data(), payload.size()), use_tuple);
  if (wec) co_return Errc::handshake_failed;
  std::vector<resp::Reply> replies;
  while (replies.size() < plan.request.commands()) {
    auto next = reader_.next();
    if (!next) co_return Errc::protocol_error;
    if (*next) {
      if ((*next)->type() != resp::Type::push) replies.emplace_back(**next);
      continue;
    }
    auto buf = reader_.prepare(kReadSize);
    auto [rec, n] =
        co_await stream.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    if (rec) co_return Errc::handshake_failed;
    reader_.commit(n);
  }
  outcome = detail::check_handshake(plan, replies);
  co_return error_code{};
}

template <class Stream>
asio::awaitable<error_code> Connection::Impl::session(Stream& stream) {
  using namespace asio::experimental::awaitable_operators;
  // Whichever loop ends first closes the socket, so the other cannot wait on an operation that
  // does not honour cancellation (a TLS write, say).
  auto ended = co_await (read_loop(stream) || write_loop(stream));
  close_transport();
  co_return std::visit([](error_code ec) { return ec; }, ended);
}

template <class Stream>
asio::awaitable<error_code> Connection::Impl::read_loop(Stream& stream) {
  const bool resp3 = link_protocol_ == 3;
  for (;;) {
    std::size_t matched = 0;
    for (;;) {
      if (matched == kDeliverSlice) {
        // Hand this slice to its callers. What they ask next leaves before the rest of the
        // batch is delivered, so that Redis works on it while we do: deliver() sends it, or,
        // when it cannot (TLS, a write in progress), wakes the writer, which must then run
        // before we go on. Through the strand's executor: a post to the strand itself would
        // run this coroutine again at once, ahead of the writer.
        matched = 0;
        deliver();
        if (mux_.has_waiting()) {
          co_await asio::post(strand_.get_inner_executor(), asio::deferred);
        }
      }
      auto next = reader_.next();
      if (!next) {
        spdlog::warn("redis: {} sent bytes that are not RESP: {}", config_.describe(),
                     next.error().message());
        close_transport();
        co_return Errc::protocol_error;
      }
      if (!*next) break;
      switch (mux_.on_reply(**next, resp3)) {
        case detail::Multiplexer::ReplyKind::matched:
          ++matched;
          break;
        case detail::Multiplexer::ReplyKind::push:
          deliver();  // earlier replies first: a push may invalidate what they read
          if (push_handler_ && !closed_.load()) push_handler_(LinkId{index_, generation_}, **next);
          break;
        case detail::Multiplexer::ReplyKind::unexpected:
          spdlog::warn("redis: {} sent a reply nobody asked for", config_.describe());
          close_transport();
          co_return Errc::protocol_error;
      }
    }
    deliver();
    auto buf = reader_.prepare(kReadSize);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    if (ec) {
      close_transport();
      co_return ec;
    }
    reader_.commit(n);
  }
}

void Connection::Impl::take_batch() {
  const auto now = Clock::now();
  // A TLS stream writes one buffer per record, so there everything is copied into one; a socket
  // takes many in one sendmsg, and from about a kilobyte on, an iovec is cheaper than a copy.
  const auto pieces = mux_.prepare_write(now, tls_ ? detail::Multiplexer::kCopyAll : kGatherMin);
  out_.clear();
  out_next_ = 0;
  for (const auto piece : pieces) out_.emplace_back(piece.data(), piece.size());
  if (config_.link_timeout.count() > 0) wake_watchdog(now + config_.link_timeout);
}

void Connection::Impl::consume(std::size_t n) noexcept {
  while (n > 0 && out_next_ < out_.size()) {
    auto& next = out_[out_next_];
    if (n < next.size()) {
      next += n;
      return;
    }
    n -= next.size();
    ++out_next_;
  }
}

bool Connection::Impl::write_now() {
  if (!tcp_ && !unix_) return false;
  take_batch();
  error_code ec;
  const std::size_t n = tcp_ ? tcp_->write_some(unsent(), ec) : unix_->write_some(unsent(), ec);
  if (ec && ec != asio::error::would_block) {
    close_transport();  // the reader sees it and the session ends; the request fails with it
    return true;
  }
  consume(n);
  if (!unsent().empty()) {
    wake_writer();
    return true;
  }
  writes_.fetch_add(1, std::memory_order_relaxed);
  mux_.on_written();
  // A no-reply request is complete now; but exec() may be running inline here, and a handler
  // must never run inside the call that started its operation (the caller may hold a lock).
  if (!mux_.completions().empty()) {
    asio::post(strand_, [self = shared_from_this()] { self->deliver(); });
  }
  return true;
}

template <class Stream>
asio::awaitable<error_code> Connection::Impl::write_loop(Stream& stream) {
  for (;;) {
    while (!unsent().empty() || mux_.has_waiting()) {
      // What write_now could not send goes first: it is the head of the written region.
      if (unsent().empty()) take_batch();
      // One buffer as itself: Asio's single-buffer path, without the 64-entry buffer array its
      // operation for a sequence carries.
      std::tuple<error_code, std::size_t> written;
      writing_ = true;
      if (unsent().size() == 1) {
        written = co_await asio::async_write(stream, unsent().front(), use_tuple);
      } else {
        written = co_await asio::async_write(stream, unsent(), use_tuple);
      }
      writing_ = false;
      out_next_ = out_.size();
      const auto [ec, n] = written;
      if (ec) {
        close_transport();
        co_return ec;
      }
      writes_.fetch_add(1, std::memory_order_relaxed);
      mux_.on_written();
      deliver();
    }
    writer_idle_ = true;
    wake_timer_.expires_at(Clock::time_point::max());
    co_await wake_timer_.async_wait(use_tuple);
    writer_idle_ = false;
    if (cancelled(co_await asio::this_coro::cancellation_state)) {
      co_return asio::error::operation_aborted;
    }
    if (phase_ != Phase::connected) co_return Errc::stopped;
  }
}

}  // namespace tiercache::redis
