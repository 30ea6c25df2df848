// Connection: the public face and the strand-bound bookkeeping of one link. The coroutines that
// do I/O are in connection_io.cpp; the queue they drive is the Multiplexer (multiplexer.cpp).
//
// Policy while there is no link: requests made before start() or during a connect attempt
// wait, within their own deadline; when an attempt fails they fail with its error, and while
// the link backs off before the next attempt new requests fail at once with not_connected (or
// with the attempt's own error when a person must fix it: auth_failed, permission_denied,
// tls_failed, which retrying will not cure and "not connected" would hide), so a dead server
// costs callers nothing but an error. The first attempt after a healthy link
// drops starts at once; backoff grows only over failed attempts.

#include "tiercache/redis/connection.hpp"

#include "tiercache/redis/error.hpp"

#include "redis/connection_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>

namespace tiercache::redis {
namespace {

// steady_clock's time as of the kernel's last tick (1-4 ms ago): the monotonic clock's own base,
// read without the TSC, for a deadline set on every request, where being up to a tick early is
// nothing next to a timeout of many milliseconds. A precise read costs ~25 ns on a VM, ~3% of a
// pipelined GET's whole client time (perf, bench/redis/client_bench).
std::chrono::steady_clock::time_point coarse_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

}  // namespace

// Installed in a caller's cancellation slot. It runs in the canceller's context, so it only
// posts to the strand: the slot (and this handler) is cleared when the request completes, which
// must not happen inside the handler itself.
struct Connection::Impl::CancelHandler {
  std::weak_ptr<Impl> impl;
  detail::Multiplexer::Id id;

  void operator()(asio::cancellation_type type) const {
    auto self = impl.lock();
    if (!self) return;
    asio::post(self->strand_, [self, id = id, type] { self->cancel(id, type); });
  }
};

Connection::Impl::Impl(asio::any_io_executor executor, Config config, std::size_t index)
    : strand_(asio::make_strand(std::move(executor))),
      config_(std::move(config)),
      index_(index),
      mux_(config_.max_pending, config_.retry_idempotent),
      reader_(config_.reader_limits),
      rng_(std::random_device{}()),
      wake_timer_(strand_),
      deadline_timer_(strand_),
      connect_timer_(strand_),
      retry_timer_(strand_),
      resolver_(strand_),
      registry_(asio::use_service<detail::ConnectionRegistry>(
          asio::query(strand_, asio::execution::context))) {
  if (config_.tls.enabled) {
    // Bad files throw here: a TLS set-up that cannot work should fail at start-up.
    namespace ssl = asio::ssl;
    ssl_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    if (config_.tls.ca_file.empty()) {
      ssl_->set_default_verify_paths();
    } else {
      ssl_->load_verify_file(config_.tls.ca_file);
    }
    if (!config_.tls.cert_file.empty()) {
      ssl_->use_certificate_chain_file(config_.tls.cert_file);
      ssl_->use_private_key_file(
          config_.tls.key_file.empty() ? config_.tls.cert_file : config_.tls.key_file,
          ssl::context::pem);
    }
    ssl_->set_verify_mode(config_.tls.verify_peer ? ssl::verify_peer : ssl::verify_none);
  }
}

Connection::Impl::~Impl() { registry_.remove(this); }

void Connection::Impl::join_registry() { registry_.add(shared_from_this()); }

void Connection::Impl::abandon_handlers() noexcept {
  mux_.fail_all(Errc::stopped);
  std::vector<detail::Multiplexer::Completion> doomed;
  doomed.swap(mux_.completions());
  for (auto& c : delivering_now_) doomed.push_back(std::move(c));
  delivering_now_.clear();
  pending_.store(0, std::memory_order_relaxed);
  // `doomed` goes out of scope here: the handlers, and whatever they own, are destroyed.
}

void Connection::Impl::exec(resp::Request request, Handler handler) {
  // A caller resumed by a reply of this link runs on the strand already (deliver() completes
  // in place): no hop, no lambda, no reference count.
  if (strand_.running_in_this_thread()) return add(std::move(request), std::move(handler));
  asio::dispatch(strand_, [self = shared_from_this(), request = std::move(request),
                           handler = std::move(handler)]() mutable {
    self->add(std::move(request), std::move(handler));
  });
}

void Connection::Impl::start() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    if (self->phase_ != Phase::idle) return;
    self->phase_ = Phase::connecting;
    asio::co_spawn(self->strand_, self->run(self), [](std::exception_ptr e) {
      if (e) spdlog::critical("redis: connection loop ended by an exception");
    });
  });
}

void Connection::Impl::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->do_stop(); });
}

ConnectionStats Connection::Impl::stats() const {
  ConnectionStats s;
  s.requests = requests_.load(std::memory_order_relaxed);
  s.writes = writes_.load(std::memory_order_relaxed);
  s.reconnects = reconnects_.load(std::memory_order_relaxed);
  s.timeouts = timeouts_.load(std::memory_order_relaxed);
  s.pending = pending_.load(std::memory_order_relaxed);
  s.protocol = protocol_.load(std::memory_order_relaxed);
  s.connected = s.protocol != 0;
  return s;
}

void Connection::Impl::add(resp::Request request, Handler handler) {
  if (phase_ == Phase::stopped) return fail_now(std::move(handler), Errc::stopped);
  if (phase_ == Phase::backing_off) return fail_now(std::move(handler), backoff_error_);
  if (request.empty()) return fail_now(std::move(handler), asio::error::invalid_argument);
  if (!spawned_) {
    spawned_ = true;
    asio::co_spawn(strand_, watchdog(shared_from_this()), [](std::exception_ptr e) {
      if (e) spdlog::critical("redis: connection watchdog ended by an exception");
    });
  }
  auto slot = handler.get_cancellation_slot();
  const auto deadline = coarse_now() + config_.request_timeout;
  auto id = mux_.add(request, handler, deadline);
  if (!id) return fail_now(std::move(handler), id.error());
  if (slot.is_connected())
    slot.template emplace<CancelHandler>(CancelHandler{weak_from_this(), *id});
  pending_.store(mux_.pending(), std::memory_order_relaxed);
  wake_watchdog(deadline);
  if (phase_ != Phase::connected) return;
  // Asked by a caller that deliver() is resuming: deliver() sends what its callers asked, in one
  // write, when it has handed over its replies.
  if (delivering_) return;
  // Alone on an idle link: send it now rather than through the writer coroutine, which costs a
  // scheduler round and a poll of the reactor. Under load the writer batches as before.
  if (writer_idle_ && mux_.pending() == 1 && write_now()) return;
  wake_writer();
}

void Connection::Impl::cancel(detail::Multiplexer::Id id, asio::cancellation_type type) {
  using asio::cancellation_type;
  const bool terminal = (type & cancellation_type::terminal) != cancellation_type::none;
  if (mux_.cancel(id, asio::error::operation_aborted, terminal)) deliver();
}

void Connection::Impl::fail_now(Handler handler, error_code ec) {
  ++requests_;
  // Through the strand, then on to the handler's own executor.
  asio::post(strand_, [handler = std::move(handler), ec]() mutable {
    std::move(handler).complete(ec, resp::Reply());
  });
}

void Connection::Impl::deliver() {
  auto& ready = mux_.completions();
  if (delivering_ || ready.empty()) return;
  // A handler run inline may queue, cancel or stop: those append to `ready`, which the loop
  // picks up, since the batch being run was swapped out first.
  delivering_ = true;
  while (!ready.empty()) {
    delivering_now_.swap(ready);
    pending_.store(mux_.pending(), std::memory_order_relaxed);
    for (auto& c : delivering_now_) {
      requests_.fetch_add(1, std::memory_order_relaxed);
      auto slot = c.handler.get_cancellation_slot();
      if (slot.is_connected()) slot.clear();
      std::move(c.handler).complete(c.ec, std::move(c.reply));
    }
    delivering_now_.clear();
  }
  delivering_ = false;
  if (phase_ == Phase::connected && mux_.has_waiting()) flush();
}

void Connection::Impl::flush() {
  if (!writing_ && unsent().empty() && write_now()) return;
  wake_writer();
}

void Connection::Impl::do_stop() {
  if (phase_ == Phase::stopped) return;
  phase_ = Phase::stopped;
  mux_.fail_all(Errc::stopped);
  deliver();
  wake_timer_.cancel();
  deadline_timer_.cancel();
  connect_timer_.cancel();
  retry_timer_.cancel();
  resolver_.cancel();
  close_transport();
}

void Connection::Impl::close_transport() noexcept {
  error_code ignored;
  if (tcp_) tcp_->close(ignored);
  if (unix_) unix_->close(ignored);
  if (tls_) tls_->lowest_layer().close(ignored);
}

void Connection::Impl::notify(LinkEvent::Kind kind, error_code ec) {
  if (kind == LinkEvent::Kind::up) {
    spdlog::debug("redis: link {} generation {} up on {} (RESP{})", index_, generation_,
                  config_.describe(), link_protocol_);
  } else if (ec != Errc::stopped) {
    spdlog::warn("redis: link {} generation {} to {} down: {}", index_, generation_,
                 config_.describe(), ec.message());
  }
  if (!link_handler_ || closed_.load()) return;
  LinkEvent event;
  event.kind = kind;
  event.link = LinkId{index_, generation_};
  event.protocol = link_protocol_;
  event.error = ec;
  link_handler_(event);
}

void Connection::Impl::wake_writer() {
  if (!writer_idle_) return;
  writer_idle_ = false;
  wake_timer_.cancel();
}

void Connection::Impl::wake_watchdog(Clock::time_point deadline) {
  if (deadline < watchdog_at_) {
    watchdog_at_ = deadline;
    deadline_timer_.cancel();
  }
}

Connection::Impl::Clock::duration Connection::Impl::backoff(unsigned failures) {
  // Full jitter [1]: uniform between the floor and an exponentially growing ceiling.
  // [1] https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
  const auto floor = std::max<std::int64_t>(config_.reconnect_min.count(), 1);
  const auto cap = std::max<std::int64_t>(config_.reconnect_max.count(), floor);
  const auto ceiling = std::min<std::int64_t>(cap, floor << std::min(failures, 20u));
  std::uniform_int_distribution<std::int64_t> pick(floor, ceiling);
  return std::chrono::milliseconds(pick(rng_));
}

// Connection --------------------------------------------------------------------------------

Connection::Connection(executor_type executor, Config config, std::size_t index)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), index)) {
  impl_->join_registry();
}

Connection::~Connection() {
  impl_->close();
  impl_->stop();
}

Connection::executor_type Connection::get_executor() { return impl_->strand_; }
void Connection::start() { impl_->start(); }
void Connection::stop() { impl_->stop(); }
void Connection::set_push_handler(PushHandler handler) {
  impl_->push_handler_ = std::move(handler);
}
void Connection::set_link_handler(LinkHandler handler) {
  impl_->link_handler_ = std::move(handler);
}
const Config& Connection::config() const noexcept { return impl_->config_; }
ConnectionStats Connection::stats() const { return impl_->stats(); }

void Connection::do_exec(resp::Request request, ExecHandler handler) {
  impl_->exec(std::move(request), std::move(handler));
}

}  // namespace tiercache::redis
