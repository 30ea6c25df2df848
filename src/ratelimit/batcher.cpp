#include "batcher.hpp"

#include "tiercache/ratelimit/error.hpp"
#include "tiercache/redis/slot.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include "scripts.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace tiercache::ratelimit {
namespace {

using std::chrono::microseconds;

// The same double the client computed, written so that it reads back exactly.
std::string exact_text(double v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf, static_cast<std::size_t>(n));
}

// The script's fixed arguments, worked out once per Limiter as text, so the script neither
// parses nor formats them on every call (the ARGV layout of each .lua file):
//   sliding_log:    LIMIT, WINDOW us, expiry ms
//   sliding_window: LIMIT, WINDOW us
//   token_bucket:   T us, tau us, expiry ms
std::vector<std::string> fixed_arguments(const Policy& policy) {
  const auto window_us = std::chrono::microseconds(policy.window).count();
  if (policy.algorithm == Algorithm::token_bucket) {
    const double interval = static_cast<double>(window_us) / policy.limit;
    const double tau = policy.effective_burst() * interval;
    // A written TAT is at most tau ahead of now: the key may go once that has passed.
    return {exact_text(interval), exact_text(tau),
            std::to_string(static_cast<std::int64_t>(std::ceil(tau / 1000)) + 1)};
  }
  std::vector<std::string> out{std::to_string(policy.limit), std::to_string(window_us)};
  // The sliding log's newest entry leaves the window WINDOW after its stamp, and a stamp is at
  // most a millisecond past the script's clock reading (else the script computes the expiry).
  if (policy.algorithm == Algorithm::sliding_log) {
    out.push_back(std::to_string(policy.window.count() + 1));
  }
  return out;
}

// One decision's four numbers {allowed, remaining, retry-after us, reset-after us}, with the
// server's now in us.
Decision to_decision(const std::int64_t (&v)[4], std::int64_t now, std::uint32_t limit) {
  Decision d;
  d.allowed = v[0] == 1;
  d.limit = limit;
  d.remaining = static_cast<std::uint32_t>(std::clamp<std::int64_t>(v[1], 0, limit));
  d.retry_after = microseconds(std::max<std::int64_t>(0, v[2]));
  if (v[3] > 0) {
    d.reset_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(microseconds(now + v[3])));
  }
  return d;
}

}  // namespace

Batcher::Batcher(std::shared_ptr<redis::AnyClient> redis, const Policy& policy)
    : redis_(std::move(redis)),
      script_(&script_for(policy.algorithm)),
      by_slot_(!redis_->cross_slot_allowed()),
      limit_(policy.max_cost()),
      max_batch_(policy.max_batch),
      max_in_flight_(policy.max_in_flight),
      fixed_(fixed_arguments(policy)) {}

void Batcher::submit(std::shared_ptr<Pending> pending) {
  auto batch = std::make_shared<Batch>();
  const std::uint16_t lane_id = by_slot_ ? redis::key_slot(pending->key) : 0;
  if (max_batch_ == 1) {
    // Batching off: every decision leaves at once, pipelined with those in flight.
    batch->lane = kUnbatched;
    batch->pendings.push_back(std::move(pending));
    send(std::move(batch));
    return;
  }
  {
    std::lock_guard lock(mu_);
    Lane& lane = lanes_[lane_id];
    if (lane.in_flight >= max_in_flight_ || !lane.waiting.empty()) {
      lane.waiting.push_back(std::move(pending));
      return;
    }
    ++lane.in_flight;
  }
  // Room in flight and nobody ahead: this one leaves at once, alone (no timer, no added latency).
  batch->lane = lane_id;
  batch->pendings.push_back(std::move(pending));
  send(std::move(batch));
}

std::shared_ptr<Batcher::Batch> Batcher::take_next(std::uint32_t lane) {
  auto batch = std::make_shared<Batch>();
  batch->lane = lane;
  std::lock_guard lock(mu_);
  const auto at = lanes_.find(static_cast<std::uint16_t>(lane));
  std::deque<std::shared_ptr<Pending>>& waiting = at->second.waiting;
  while (!waiting.empty() && batch->pendings.size() < max_batch_) {
    // One cancelled while it waited counts nothing: it is dropped here.
    if (!waiting.front()->done.load(std::memory_order_acquire)) {
      batch->pendings.push_back(std::move(waiting.front()));
    }
    waiting.pop_front();
  }
  if (!batch->pendings.empty()) return batch;
  if (--at->second.in_flight == 0 && by_slot_) lanes_.erase(at);  // a cluster's slots come and go
  return nullptr;
}

resp::Request Batcher::request(const Batch& batch) const {
  const std::size_t n = batch.pendings.size();
  // Each cost as text, negated for a peek: "-4294967295" at most.
  std::string costs;
  costs.resize(n * 12);
  std::vector<std::string_view> argv;
  argv.reserve(2 + 2 * n + fixed_.size());
  char numkeys[16];
  const auto numkeys_end = std::to_chars(numkeys, numkeys + sizeof numkeys, n).ptr;
  argv.emplace_back(batch.eval ? script_->source() : script_->sha1());
  argv.emplace_back(numkeys, static_cast<std::size_t>(numkeys_end - numkeys));
  std::size_t bytes = 64 + argv[0].size();
  for (const auto& p : batch.pendings) {
    argv.emplace_back(p->key);
    bytes += p->key.size() + 16;
  }
  for (const auto& f : fixed_) {
    argv.emplace_back(f);
    bytes += f.size() + 16;
  }
  char* at = costs.data();
  for (const auto& p : batch.pendings) {
    char* const begin = at;
    if (p->peek) *at++ = '-';
    at = std::to_chars(at, costs.data() + costs.size(), p->cost).ptr;
    argv.emplace_back(begin, static_cast<std::size_t>(at - begin));
    bytes += 16 + 12;
  }
  resp::Request out;
  out.reserve(bytes);
  out.push_range(batch.eval ? "EVAL" : "EVALSHA", "", argv);
  return out;
}

void Batcher::send(std::shared_ptr<Batch> batch) {
  if (!batch->eval) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    batched_decisions_.fetch_add(batch->pendings.size(), std::memory_order_relaxed);
  }
  resp::Request req = request(*batch);
  redis_->async_exec(std::move(req),
                     [self = shared_from_this(), batch](error_code ec, resp::Reply reply) mutable {
                       self->on_reply(std::move(batch), ec, reply);
                     });
}

void Batcher::on_reply(std::shared_ptr<Batch> batch, error_code ec, const resp::Reply& reply) {
  // NOSCRIPT (first use, a restart, SCRIPT FLUSH, another node): the same batch by EVAL, once.
  if (!ec && !batch->eval && redis::Script::is_noscript(reply)) {
    batch->eval = true;
    send(std::move(batch));
    return;
  }
  // The decisions that waited leave before this batch's callers run, so the next call is on its
  // way while they do (those they start wait for it in turn).
  if (batch->lane != kUnbatched) {
    if (std::shared_ptr<Batch> next = take_next(batch->lane)) send(std::move(next));
  }
  deliver(*batch, ec, reply);
}

void Batcher::deliver(const Batch& batch, error_code ec, const resp::Reply& reply) const {
  const std::size_t n = batch.pendings.size();
  const auto fail_all = [&](error_code why, const std::string& cause) {
    for (const auto& p : batch.pendings) p->finish(Answer{.failure = why, .cause = cause}, false);
  };
  if (ec) {
    fail_all(make_error_code(Errc::redis_unavailable), ec.message());
    return;
  }
  // {now, then four per decision}: an error reply in place of a decision's first number is that
  // key's alone (a key of another type).
  if (reply.type() != resp::Type::array || reply.size() != 1 + 4 * n) {
    fail_all(make_error_code(Errc::unexpected_reply), resp::to_display(reply));
    return;
  }
  auto it = reply.begin();
  const resp::ReplyView first = *it;
  if (first.type() != resp::Type::integer) {
    fail_all(make_error_code(Errc::unexpected_reply), resp::to_display(reply));
    return;
  }
  const std::int64_t now = first.integer();
  ++it;
  for (const auto& p : batch.pendings) {
    std::int64_t v[4];
    Answer answer;
    for (int i = 0; i < 4; ++i, ++it) {
      const resp::ReplyView e = *it;
      if (e.type() == resp::Type::integer) {
        v[i] = e.integer();
      } else if (!answer.failure) {
        answer.failure = make_error_code(Errc::unexpected_reply);
        answer.cause = resp::to_display(e);
      }
    }
    if (!answer.failure) answer.decision = to_decision(v, now, limit_);
    p->finish(std::move(answer), false);
  }
}

}  // namespace tiercache::ratelimit
