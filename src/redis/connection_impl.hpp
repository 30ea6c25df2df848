#pragma once
// Connection::Impl: the Asio shell around a Multiplexer. One strand; four coroutines share it:
// run (connect, handshake, session, reconnect with backoff), the reader and writer of the
// current session, and the watchdog (request deadlines and link timeout, one timer per link).
// Shared by Connection and its coroutines (shared_ptr), so a coroutine never outlives it.

#include "tiercache/redis/connection.hpp"
#include "tiercache/resp/reader.hpp"

#include "redis/connection_registry.hpp"
#include "redis/handshake.hpp"
#include "redis/multiplexer.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace tiercache::redis {
class Connection::Impl final : public std::enable_shared_from_this<Impl>,
                               public detail::HandlerHolder {
 public:
  using Strand = asio::strand<asio::any_io_executor>;
  using Clock = std::chrono::steady_clock;
  using Handler = AnyClient::ExecHandler;

  Impl(asio::any_io_executor executor, Config config, std::size_t index);
  ~Impl();
  // Joins the context's ConnectionRegistry; Connection calls it once, right after make_shared.
  void join_registry();

  // Any thread.
  void exec(resp::Request request, Handler handler);
  void start();
  void stop();
  void close() noexcept { closed_.store(true); }  // the owner is gone: call no handler again
  ConnectionStats stats() const;
  // The execution context is going away (no thread runs it): destroys the queued callers'
  // handlers without calling them. Only ConnectionRegistry::shutdown calls this.
  void abandon_handlers() noexcept override;

  Strand strand_;
  const Config config_;
  const std::size_t index_;
  PushHandler push_handler_;  // set before start(), read on the strand
  LinkHandler link_handler_;

 private:
  enum class Phase { idle, connecting, connected, backing_off, stopped };

  // On the strand.
  void add(resp::Request request, Handler handler);
  void cancel(detail::Multiplexer::Id id, asio::cancellation_type type);
  void fail_now(Handler handler, error_code ec);
  void deliver();
  void do_stop();
  void close_transport() noexcept;
  void notify(LinkEvent::Kind kind, error_code ec);
  void wake_writer();
  // Writes the waiting requests with one non-blocking send while the writer is idle (plain TCP
  // or unix socket only). False when it cannot (TLS, no socket): the caller wakes the writer.
  bool write_now();
  // Sends the waiting requests: from here, now, when no write is in progress (write_now), else
  // through the writer, woken.
  void flush();
  // Every waiting request, now counted as written (the watchdog told of the link deadline),
  // into out_ as one gathered write. REQUIRES: mux_.has_waiting() and nothing unsent.
  void take_batch();
  // What of out_ is not yet written; drops the first `n` bytes of it.
  std::span<const asio::const_buffer> unsent() const noexcept {
    return std::span<const asio::const_buffer>(out_).subspan(out_next_);
  }
  void consume(std::size_t n) noexcept;
  void wake_watchdog(Clock::time_point deadline);
  Clock::duration backoff(unsigned failures);

  asio::awaitable<void> run(std::shared_ptr<Impl> self);
  asio::awaitable<void> watchdog(std::shared_ptr<Impl> self);
  asio::awaitable<error_code> connect();
  asio::awaitable<error_code> connect_tcp();
  asio::awaitable<error_code> run_session();
  template <class Stream>
  asio::awaitable<error_code> handshake(Stream& stream);
  template <class Stream>
  asio::awaitable<error_code> handshake_round(Stream& stream, detail::HandshakePlan& plan,
                                              detail::HandshakeOutcome& outcome);
  template <class Stream>
  asio::awaitable<error_code> session(Stream& stream);
  template <class Stream>
  asio::awaitable<error_code> read_loop(Stream& stream);
  template <class Stream>
  asio::awaitable<error_code> write_loop(Stream& stream);

  struct CancelHandler;

  detail::Multiplexer mux_;
  resp::Reader reader_;
  Phase phase_ = Phase::idle;
  bool spawned_ = false;
  bool writer_idle_ = false;  // the writer waits on its doorbell
  bool writing_ = false;      // the writer has an async_write in progress over out_
  // The write in progress: buffers over the multiplexer's pieces. What write_now could not send
  // stays here, from out_next_, and the writer sends it first.
  std::vector<asio::const_buffer> out_;
  std::size_t out_next_ = 0;
  bool delivering_ = false;
  bool connect_timed_out_ = false;
  error_code teardown_;  // why the watchdog closed the link
  // What a request made while backing off fails with: the last attempt's error when a person
  // must fix it (auth_failed, permission_denied, tls_failed), else not_connected.
  error_code backoff_error_;
  std::uint64_t generation_ = 0;
  int link_protocol_ = 0;
  Clock::time_point watchdog_at_ = Clock::time_point::max();
  std::vector<detail::Multiplexer::Completion> delivering_now_;
  std::minstd_rand rng_;

  asio::steady_timer wake_timer_;      // the writer's doorbell
  asio::steady_timer deadline_timer_;  // the watchdog's
  asio::steady_timer connect_timer_;   // connect_timeout
  asio::steady_timer retry_timer_;     // backoff
  asio::ip::tcp::resolver resolver_;
  std::unique_ptr<asio::ssl::context> ssl_;
  std::optional<asio::ip::tcp::socket> tcp_;
  std::optional<asio::local::stream_protocol::socket> unix_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> tls_;

  detail::ConnectionRegistry& registry_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> requests_{0}, writes_{0}, reconnects_{0}, timeouts_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<int> protocol_{0};
};

}  // namespace tiercache::redis
