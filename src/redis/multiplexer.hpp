#pragma once
// Multiplexer: the request queue of one pipelined link, sans I/O. Requests wait, are written
// together in one write, and collect their replies in FIFO order; the shell (Connection) feeds
// it events (write done, reply parsed, link lost, time passed) and delivers the completions it
// produces. See multiplexer.cpp for the states and the guarantees.
// Thread-safety: not thread-safe; a Connection touches it only on its strand.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/any_client.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include <boost/circular_buffer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::redis::detail {

class Multiplexer {
 public:
  using Handler = AnyClient::ExecHandler;
  using Clock = std::chrono::steady_clock;
  using time_point = Clock::time_point;
  using Id = std::uint64_t;

  // A caller to complete: the shell dispatches handler(ec, reply) to the handler's executor.
  struct Completion {
    Handler handler;
    error_code ec;
    resp::Reply reply;
  };

  enum class ReplyKind {
    matched,     // consumed by the oldest written request (or discarded for an abandoned one)
    push,        // an out-of-band push message: give it to the push handler
    unexpected,  // a reply nobody asked for: the server is confused, drop the link
  };

  explicit Multiplexer(std::size_t max_pending = 65536, bool retry_idempotent = false);

  // Queues a request. Returns its id, or Errc::queue_full (the request and handler are left
  // untouched in that case, so the caller can fail the handler).
  [[nodiscard]] Result<Id> add(resp::Request& request, Handler& handler, time_point deadline);

  // True when requests wait to be written.
  bool has_waiting() const noexcept { return entries_.size() > written_; }
  // The bytes of every waiting request, in order, for one gathered write: small payloads are
  // copied together into one buffer, a payload of `gather_min` bytes or more is a piece of its
  // own, sent from where it lies. The pieces stay valid and unchanged until the next call; those
  // requests are now written. REQUIRES: has_waiting().
  std::span<const std::string_view> prepare_write(time_point now,
                                                  std::size_t gather_min = kCopyAll);
  // gather_min for a stream that writes one buffer at a time (TLS: a record per buffer).
  static constexpr std::size_t kCopyAll = static_cast<std::size_t>(-1);
  // The buffer from prepare_write reached the socket: requests without a reply complete.
  void on_written();

  // Feeds one complete reply. `resp3`: whether the link speaks RESP3 (under RESP2 nothing is a
  // push). The view is copied where a caller keeps it.
  ReplyKind on_reply(const resp::ReplyView& reply, bool resp3);

  // The link dropped: written requests fail with connection_lost (or, idempotent ones with
  // retry on, wait again, once). Waiting requests stay for the next link.
  void on_link_lost();
  // Fails every waiting request (not yet written) with `ec`.
  void fail_waiting(error_code ec);
  // Fails everything, written or waiting, with `ec`; forgets the written slots (the link is gone).
  void fail_all(error_code ec);

  // Cancellation of request `id`: a waiting one is removed, a written one abandoned (its slot
  // stays so later replies still match). `written_too`: abandon a written one (terminal only).
  // Returns false when the request is no longer live.
  bool cancel(Id id, error_code ec, bool written_too = true);
  // Completes every live request whose deadline is <= now with reply_timeout. Returns how many.
  std::size_t expire(time_point now);
  // The earliest deadline of a live request, or time_point::max().
  time_point next_deadline() const noexcept;
  // When the oldest written request was written, or time_point::max() if none is written.
  time_point oldest_written_at() const noexcept;

  // Completions produced since the last call. The shell swaps the vector out and delivers.
  std::vector<Completion>& completions() noexcept { return completions_; }

  std::size_t pending() const noexcept { return live_; }  // live requests, waiting or written
  std::size_t written() const noexcept { return written_; }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  enum class State : std::uint8_t { waiting, written, abandoned };

  struct Entry {
    Entry() = default;
    Entry(Entry&&) noexcept = default;
    Entry& operator=(Entry&&) noexcept = default;
    Entry(const Entry&) = delete;  // a handler cannot be copied
    Entry& operator=(const Entry&) = delete;

    Id id = 0;
    State state = State::waiting;
    bool no_reply = false;
    bool idempotent = false;
    bool retried = false;
    std::uint32_t commands = 0;   // replies expected (Request::expected_replies)
    std::uint32_t remaining = 0;  // replies still to absorb; 0 for a written no-reply request
    time_point deadline;
    time_point written_at;
    resp::Request request;             // kept after writing only when it may be retried
    Handler handler;                   // empty once completed
    resp::Reply reply;                 // a one-command request's reply
    std::vector<resp::Reply> replies;  // a multi-command request's replies so far
  };

  bool live(const Entry& e) const noexcept { return static_cast<bool>(e.handler); }
  void complete(Entry& e, error_code ec, resp::Reply reply = {});
  void pop_finished_front();
  std::size_t find(Id id) const noexcept;  // index, or entries_.size()

  std::size_t max_pending_;
  bool retry_idempotent_;
  boost::circular_buffer<Entry> entries_;  // ascending ids: [0, written_) written, then waiting
  std::size_t written_ = 0;
  std::size_t live_ = 0;
  std::size_t dead_prefix_ = 0;  // leading entries known not to be live (a scan shortcut)
  std::size_t batch_ = 0;        // entries in the buffer being written, from written_ - batch_
  Id next_id_ = 1;
  // The last batch: small payloads copied together, large requests moved here whole (a payload
  // on the heap keeps its bytes where they are when moved), and the pieces in stream order.
  std::string buffer_;
  std::vector<resp::Request> sent_;
  std::vector<std::string_view> pieces_;
  std::vector<Completion> completions_;
};

}  // namespace tiercache::redis::detail
