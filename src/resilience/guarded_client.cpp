// GuardedClient: a circuit breaker and a bulkhead in front of one Redis endpoint (issue #5).
//
// A request asks, in this order:
//  1. the breaker for a permit. Open (or half-open with its probes out): Errc::circuit_open.
//     The breaker comes first so that, while Redis is down, callers learn the real reason.
//  2. the bulkhead for a slot. Full: Errc::saturated, and the permit is given back unused
//     (ignore(): no count in the window, a half-open probe slot freed).
// Either refusal completes through asio::post on the handler's executor, never inline (Asio
// 1.81 has no async_immediate): a caller that issues a request from its completion handler must
// not recurse without bound while the breaker is open.
//
// The inner request completes through Done, which reports the verdict to the breaker, frees the
// slot, and only then calls the caller's handler, so a caller that looks at state() from its
// handler sees its own outcome counted. Done forwards every association (executor, cancellation
// slot, allocator) of the caller's handler to the inner client, with the inner client's default
// as candidate, as Asio's own wrappers (append, bind_executor) do: the inner client completes
// on the caller's strand and hears the caller's cancellation exactly as if unwrapped.
//
// What counts (verdict_of). The breaker should open when Redis cannot serve, not when a caller
// asked for something wrong: a Redis error reply is a round trip that worked (WRONGTYPE, OOM,
// NOPERM, NOSCRIPT, READONLY: the server is there and fast), except the replies by which a
// server says it is not serving at all: LOADING (loading its dataset), BUSY (a script holds it),
// MASTERDOWN (a replica cut from its master), CLUSTERDOWN. Transport errors count as failures;
// reply and connect timeouts as timeouts (the breaker also opens on a streak of them, without
// waiting for minimum_calls: a stalled Redis makes every caller wait its full timeout). A caller's
// cancellation, the client being stopped, its own queue being full (local back-pressure, which
// the timeouts behind it already report) or a refusal of another guard say nothing about the
// endpoint and are ignored.
//
// No retries. A request refused here was never sent, so retrying it at once would only be
// refused again; a request that failed inside the client may have run (connection_lost after
// the write), and only the caller knows whether it is idempotent. The client already resends
// flagged idempotent requests once after a link drop (redis::Config::retry_idempotent);
// resilience::retry() is there for callers that want more.
#include "tiercache/resilience/guarded_client.hpp"

#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/error.hpp"
#include "tiercache/resilience/bulkhead.hpp"
#include "tiercache/resilience/error.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace tiercache::resilience {

struct GuardedClient::Shared {
  Shared(CircuitBreakerOptions breaker_options, const Clock& clock, std::size_t max_in_flight)
      : breaker(std::move(breaker_options), clock), bulkhead(max_in_flight) {}

  CircuitBreaker breaker;
  Bulkhead bulkhead;
  std::atomic<std::uint64_t> rejected_open{0};
};

namespace {

bool endpoint_not_serving(resp::ReplyView reply) noexcept {
  if (!reply.is_error()) return false;
  const std::string_view text = reply.str();
  for (const std::string_view code : {"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN"}) {
    if (text.starts_with(code) && (text.size() == code.size() || text[code.size()] == ' ')) {
      return true;
    }
  }
  return false;
}

Verdict verdict_of_error(error_code ec) noexcept {
  if (ec == boost::asio::error::operation_aborted) return Verdict::ignore;
  if (ec == boost::asio::error::timed_out) return Verdict::timeout;
  if (ec.category() == resilience::category()) return Verdict::ignore;
  if (ec == redis::ClusterErrc::cross_slot) return Verdict::ignore;  // the caller's keys, not Redis
  if (ec.category() != redis::category()) return Verdict::failure;
  switch (static_cast<redis::Errc>(ec.value())) {
    case redis::Errc::connect_timeout:
    case redis::Errc::reply_timeout:
      return Verdict::timeout;
    case redis::Errc::connect_failed:
    case redis::Errc::connection_lost:
    case redis::Errc::not_connected:
    case redis::Errc::protocol_error:
    case redis::Errc::auth_failed:
    case redis::Errc::tls_failed:
    case redis::Errc::handshake_failed:
      return Verdict::failure;
    case redis::Errc::permission_denied:
    case redis::Errc::script_error:
      return Verdict::success;  // the server answered
    case redis::Errc::invalid_url:
    case redis::Errc::stopped:
    case redis::Errc::queue_full:
      return Verdict::ignore;
  }
  return Verdict::failure;
}

// The caller's handler, and what the request holds until it completes. Declaration order is
// destruction order in reverse: the slot and the permit go before the breaker they point into.
struct Done {
  std::shared_ptr<void> keep_alive;  // the breaker and bulkhead
  CircuitBreaker::Permit permit;
  Bulkhead::Slot slot;
  std::size_t commands;
  redis::AnyClient::ExecHandler handler;

  void operator()(error_code ec, resp::Reply reply) {
    switch (verdict_of(ec, reply, commands)) {
      case Verdict::success:
        permit.success();
        break;
      case Verdict::failure:
        permit.failure(Failure::error);
        break;
      case Verdict::timeout:
        permit.failure(Failure::timeout);
        break;
      case Verdict::ignore:
        permit.ignore();
        break;
    }
    slot.leave();
    std::move(handler)(ec, std::move(reply));
  }
};

}  // namespace

Verdict verdict_of(error_code ec, const resp::Reply& reply, std::size_t commands) noexcept {
  if (ec) return verdict_of_error(ec);
  if (endpoint_not_serving(reply)) return Verdict::failure;
  if (commands > 1 && reply.is_aggregate()) {
    for (const auto element : reply) {
      if (endpoint_not_serving(element)) return Verdict::failure;
    }
  }
  return Verdict::success;
}

}  // namespace tiercache::resilience

// Done is the caller's handler as far as Asio is concerned: executor, cancellation slot and
// allocator are the handler's, defaulting to the candidate the inner client offers.
template <template <typename, typename> class Associator, typename DefaultCandidate>
struct boost::asio::associator<Associator, tiercache::resilience::Done, DefaultCandidate>
    : Associator<tiercache::redis::AnyClient::ExecHandler, DefaultCandidate> {
  using Handler = tiercache::redis::AnyClient::ExecHandler;
  static typename Associator<Handler, DefaultCandidate>::type get(
      const tiercache::resilience::Done& d) noexcept {
    return Associator<Handler, DefaultCandidate>::get(d.handler);
  }
  static auto get(const tiercache::resilience::Done& d, const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(d.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(d.handler, c);
  }
};

namespace tiercache::resilience {
namespace {

CircuitBreakerOptions with_logging(CircuitBreakerOptions options, const redis::AnyClient& inner) {
  if (options.name.empty()) options.name = inner.config().describe();
  options.on_transition = [name = options.name,
                           user = std::move(options.on_transition)](const BreakerTransition& t) {
    if (t.to == BreakerState::open) {
      spdlog::warn("redis {}: circuit breaker {} -> open ({}): requests fail fast for {} ms", name,
                   to_string(t.from), to_string(t.reason),
                   std::chrono::duration_cast<std::chrono::milliseconds>(t.cool_down).count());
    } else {
      spdlog::info("redis {}: circuit breaker {} -> {} ({})", name, to_string(t.from),
                   to_string(t.to), to_string(t.reason));
    }
    if (user) user(t);
  };
  return options;
}

}  // namespace

GuardedClient::GuardedClient(std::shared_ptr<redis::AnyClient> inner, GuardedClientOptions options)
    : inner_(std::move(inner)) {
  if (!inner_) throw std::invalid_argument("GuardedClient: the inner client is null");
  if (options.max_in_flight == 0) {
    throw std::invalid_argument("GuardedClient: max_in_flight must be >= 1");
  }
  shared_ = std::make_shared<Shared>(with_logging(std::move(options.breaker), *inner_),
                                     *options.clock, options.max_in_flight);
}

GuardedClient::~GuardedClient() = default;

GuardedClient::executor_type GuardedClient::get_executor() { return inner_->get_executor(); }
void GuardedClient::start() { inner_->start(); }
void GuardedClient::stop() { inner_->stop(); }
void GuardedClient::set_push_handler(redis::PushHandler handler) {
  inner_->set_push_handler(std::move(handler));
}
void GuardedClient::set_link_handler(redis::LinkHandler handler) {
  inner_->set_link_handler(std::move(handler));
}
const redis::Config& GuardedClient::config() const noexcept { return inner_->config(); }

BreakerState GuardedClient::state() const noexcept { return shared_->breaker.state(); }
CircuitBreaker& GuardedClient::breaker() noexcept { return shared_->breaker; }

GuardedClientStats GuardedClient::stats() const noexcept {
  return GuardedClientStats{.state = shared_->breaker.state(),
                            .breaker = shared_->breaker.stats(),
                            .rejected_open = shared_->rejected_open.load(std::memory_order_relaxed),
                            .rejected_saturated = shared_->bulkhead.rejected(),
                            .in_flight = shared_->bulkhead.in_flight()};
}

void GuardedClient::do_exec(resp::Request request, ExecHandler handler) {
  guarded(std::nullopt, std::move(request), std::move(handler));
}

void GuardedClient::do_exec_on(std::string primary, resp::Request request, ExecHandler handler) {
  guarded(std::move(primary), std::move(request), std::move(handler));
}

void GuardedClient::guarded(std::optional<std::string> primary, resp::Request request,
                            ExecHandler handler) {
  auto refuse = [&](Errc why) {
    boost::asio::post(inner_->get_executor(),
                      boost::asio::append(std::move(handler), error_code(why), resp::Reply{}));
  };
  auto permit = shared_->breaker.try_acquire();
  if (!permit) {
    shared_->rejected_open.fetch_add(1, std::memory_order_relaxed);
    return refuse(Errc::circuit_open);
  }
  auto slot = shared_->bulkhead.try_acquire();
  if (!slot) {
    permit.ignore();
    return refuse(Errc::saturated);
  }
  const std::size_t commands = request.commands();
  Done done{shared_, std::move(permit), std::move(slot), commands, std::move(handler)};
  if (primary) {
    inner_->async_exec_on(std::move(*primary), std::move(request), std::move(done));
  } else {
    inner_->async_exec(std::move(request), std::move(done));
  }
}

}  // namespace tiercache::resilience
