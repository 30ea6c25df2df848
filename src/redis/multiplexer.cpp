// The request queue of one pipelined Redis link.
//
// A link carries many callers' commands in one ordered byte stream, and Redis answers them in
// the order it read them. So the queue is one FIFO of entries in ascending id order, split in
// two regions:
//
//     entries_:  [ written (or abandoned) ............ | waiting ................... ]
//                  0                          written_ ^                     size()
//
//   waiting    queued, not yet handed to the socket. Cancelling or timing out removes it:
//              Redis never saw it. prepare_write() turns the whole region into one write
//              (auto-pipelining: everything queued while a write is in flight leaves in the
//              next single write, as in Boost.Redis's multiplexer [1]): small payloads copied
//              into one buffer, large ones gathered from where they lie, so a 10 KB value is
//              not copied once more on its way to the socket.
//   written    in the socket or at the server; it owes `remaining` replies (its command count;
//              0 for a no-reply request such as SUBSCRIBE under RESP3, which completes once
//              on_written() confirms the bytes left).
//   abandoned  written, but its caller gave up (timeout, cancellation) and was completed.
//              The entry keeps its slot until its replies arrive and are discarded: the reply
//              stream has no ids, only positions, so removing the slot would hand this
//              request's reply to the next caller. This is the one rule that keeps every
//              caller's reply its own.
//   done       a completed entry with nothing left to absorb; popped from the front.
//
// Replies: a RESP3 push ('>') is out of band and goes to the push handler, never to a caller
// (under RESP2 nothing is a push). Any other reply belongs to the oldest written entry that
// still owes one. A request of N commands collects N replies and completes with
// Reply::array_of; a reply that no written entry owes means the server and we disagree about
// the stream, and the shell drops the link.
//
// Link loss: written requests may or may not have run, so they fail with connection_lost,
// except idempotent ones when Config::retry_idempotent is on: they go back to the head of the
// waiting region, once, keeping their order and deadline. Waiting requests stay; the shell
// decides (a connect attempt in progress lets them wait, a failed one fails them).
//
// Ordering: callers complete in the order their replies arrive, which is the order their
// requests entered the queue, since ids ascend and writes preserve them. A request's commands
// are contiguous in the stream, so MULTI ... EXEC in one request is atomic on a shared link.
//
// Time: every request gets a deadline from one per-link timeout, so deadlines ascend with ids
// (a retried request keeps its earlier one at the head). The earliest live deadline is thus
// the first live entry, and expire() stops at the first that is not due; the shell needs one
// timer per link, not one per request. dead_prefix_ remembers how many leading entries are not
// live, so a long run of abandoned slots (a paused server) is not rescanned on every tick.
//
// The queue never invokes a handler: it appends Completions, which the shell delivers after
// the queue's state is consistent, so a handler that issues a new request re-enters safely.
//
// [1] Boost.Redis, boost/redis/detail/multiplexer.hpp and connection_base.hpp
//     (https://github.com/boostorg/redis).

#include "redis/multiplexer.hpp"

#include "tiercache/redis/error.hpp"

#include <algorithm>
#include <utility>

namespace tiercache::redis::detail {
namespace {

constexpr std::size_t kGatherFloor = 256;
static_assert(kGatherFloor > resp::Request::kInlineBytes, "a piece must be on the heap");

}  // namespace

Multiplexer::Multiplexer(std::size_t max_pending, bool retry_idempotent)
    : max_pending_(max_pending), retry_idempotent_(retry_idempotent), entries_(64) {}

Result<Multiplexer::Id> Multiplexer::add(resp::Request& request, Handler& handler,
                                         time_point deadline) {
  if (live_ >= max_pending_) return Errc::queue_full;
  if (entries_.full()) entries_.set_capacity(entries_.capacity() * 2);
  const Id id = next_id_++;
  entries_.push_back(Entry{});
  Entry& e = entries_.back();
  e.id = id;
  // SUBSCRIBE and friends are answered by push messages under RESP3: they own no reply slot.
  e.commands = static_cast<std::uint32_t>(request.expected_replies());
  e.no_reply = e.commands == 0;
  e.idempotent = request.flags().idempotent;
  e.remaining = e.commands;
  e.deadline = deadline;
  e.request = std::move(request);
  e.handler = std::move(handler);
  ++live_;
  return id;
}

std::span<const std::string_view> Multiplexer::prepare_write(time_point now,
                                                             std::size_t gather_min) {
  // A piece's bytes must be on the heap, where moving its Request leaves them (a short payload
  // lives inside the object); a request kept for a retry stays in its entry, which may move or
  // go while the write is in flight, so it is always copied.
  gather_min = std::max(gather_min, kGatherFloor);
  const auto retained = [this](const Entry& e) {
    return e.idempotent && retry_idempotent_ && !e.retried;
  };
  std::size_t copied = 0;
  for (std::size_t i = written_; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const std::size_t size = e.request.payload().size();
    if (size < gather_min || retained(e)) copied += size;
  }
  // A huge value once must not pin its buffer forever.
  if (buffer_.capacity() > (std::size_t{4} << 20)) buffer_ = std::string();
  buffer_.clear();
  // Room for every copy up front, so no append below moves the bytes the pieces point at.
  if (copied > buffer_.capacity()) buffer_.reserve(copied);
  sent_.clear();
  pieces_.clear();
  std::size_t run = 0;  // where the current run of copied payloads starts in buffer_
  const auto end_run = [&] {
    if (buffer_.size() > run) pieces_.emplace_back(buffer_.data() + run, buffer_.size() - run);
    run = buffer_.size();
  };
  for (std::size_t i = written_; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    const std::string_view payload = e.request.payload();
    if (payload.size() >= gather_min && !retained(e)) {
      end_run();
      pieces_.push_back(payload);
      sent_.push_back(std::exchange(e.request, resp::Request()));
    } else {
      buffer_.append(payload);
      if (!retained(e)) e.request = resp::Request();
    }
    e.state = State::written;
    e.written_at = now;
    if (e.no_reply) e.remaining = 0;
  }
  end_run();
  batch_ = entries_.size() - written_;
  written_ = entries_.size();
  return pieces_;
}

void Multiplexer::on_written() {
  // The batch is the last batch_ entries of the written region, minus any popped since; no-reply
  // entries are never popped before this point because they stay live until here.
  const std::size_t first = written_ >= batch_ ? written_ - batch_ : 0;
  for (std::size_t i = first; i < written_; ++i) {
    Entry& e = entries_[i];
    if (e.no_reply && live(e)) complete(e, {});
  }
  batch_ = 0;
  pop_finished_front();
}

Multiplexer::ReplyKind Multiplexer::on_reply(const resp::ReplyView& reply, bool resp3) {
  if (resp3 && reply.type() == resp::Type::push) return ReplyKind::push;
  std::size_t i = 0;
  while (i < written_ && entries_[i].remaining == 0) ++i;
  if (i == written_) return ReplyKind::unexpected;
  Entry& e = entries_[i];
  --e.remaining;
  if (live(e)) {
    if (e.commands == 1) {
      e.reply = resp::Reply(reply);
    } else {
      e.replies.emplace_back(reply);
    }
    if (e.remaining == 0) {
      complete(e, {}, e.commands == 1 ? std::move(e.reply) : resp::Reply::array_of(e.replies));
    }
  }
  pop_finished_front();
  return ReplyKind::matched;
}

void Multiplexer::on_link_lost() {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < written_; ++i) {
    Entry& e = entries_[i];
    if (live(e) && e.idempotent && retry_idempotent_ && !e.retried) {
      e.state = State::waiting;
      e.retried = true;
      e.remaining = e.commands;
      e.replies.clear();
      e.reply = resp::Reply();
      if (kept != i) entries_[kept] = std::move(e);
      ++kept;
    } else if (live(e)) {
      complete(e, Errc::connection_lost);
    }
  }
  // Slide the waiting region down over the dropped written slots.
  std::size_t out = kept;
  for (std::size_t i = written_; i < entries_.size(); ++i, ++out) {
    if (out != i) entries_[out] = std::move(entries_[i]);
  }
  while (entries_.size() > out) entries_.pop_back();
  written_ = 0;
  batch_ = 0;
  dead_prefix_ = 0;
}

void Multiplexer::fail_waiting(error_code ec) {
  for (std::size_t i = written_; i < entries_.size(); ++i) complete(entries_[i], ec);
  while (entries_.size() > written_) entries_.pop_back();
}

void Multiplexer::fail_all(error_code ec) {
  for (auto& e : entries_) {
    if (live(e)) complete(e, ec);
  }
  entries_.clear();
  written_ = 0;
  batch_ = 0;
  dead_prefix_ = 0;
}

bool Multiplexer::cancel(Id id, error_code ec, bool written_too) {
  const std::size_t i = find(id);
  if (i == entries_.size() || !live(entries_[i])) return false;
  Entry& e = entries_[i];
  if (e.state == State::waiting) {
    complete(e, ec);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  if (!written_too) return false;
  complete(e, ec);
  e.state = State::abandoned;
  e.replies.clear();
  e.reply = resp::Reply();
  pop_finished_front();
  return true;
}

std::size_t Multiplexer::expire(time_point now) {
  std::size_t expired = 0;
  bool waiting_expired = false;
  for (std::size_t i = dead_prefix_; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (!live(e)) continue;
    if (e.deadline > now) break;  // deadlines ascend with ids (see the top of this file)
    complete(e, Errc::reply_timeout);
    ++expired;
    if (e.state == State::waiting) {
      waiting_expired = true;
    } else {
      e.state = State::abandoned;
      e.replies.clear();
      e.reply = resp::Reply();
    }
  }
  if (waiting_expired) {
    auto first = entries_.begin() + static_cast<std::ptrdiff_t>(written_);
    auto last = std::remove_if(first, entries_.end(), [this](const Entry& e) { return !live(e); });
    const auto removed = static_cast<std::size_t>(entries_.end() - last);
    for (std::size_t k = 0; k < removed; ++k) entries_.pop_back();
  }
  pop_finished_front();
  return expired;
}

Multiplexer::time_point Multiplexer::next_deadline() const noexcept {
  for (std::size_t i = dead_prefix_; i < entries_.size(); ++i) {
    if (live(entries_[i])) return entries_[i].deadline;
  }
  return time_point::max();
}

Multiplexer::time_point Multiplexer::oldest_written_at() const noexcept {
  for (std::size_t i = 0; i < written_; ++i) {
    if (entries_[i].remaining > 0) return entries_[i].written_at;
  }
  return time_point::max();
}

void Multiplexer::complete(Entry& e, error_code ec, resp::Reply reply) {
  completions_.push_back(Completion{std::move(e.handler), ec, std::move(reply)});
  --live_;
}

void Multiplexer::pop_finished_front() {
  while (written_ > 0 && entries_.front().remaining == 0 && !live(entries_.front())) {
    entries_.pop_front();
    --written_;
    batch_ = std::min(batch_, written_);
    if (dead_prefix_ > 0) --dead_prefix_;
  }
  while (dead_prefix_ < entries_.size() && !live(entries_[dead_prefix_])) ++dead_prefix_;
}

std::size_t Multiplexer::find(Id id) const noexcept {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                             [](const Entry& e, Id value) { return e.id < value; });
  if (it == entries_.end() || it->id != id) return entries_.size();
  return static_cast<std::size_t>(it - entries_.begin());
}

}  // namespace tiercache::redis::detail
