// ClusterClient: one request, from routing to the reply.
//
// A request is cut into parts, each of which one master must run as a whole:
//   - a MULTI ... EXEC (or DISCARD) block: all its keys must share a slot (else
//   ClusterErrc::cross_slot,
//     nothing sent), since a transaction cannot span nodes;
//   - any other command: the slot of its keys (redis/cluster/command_keys.hpp has the rule);
//     keyless commands go to any master. A command whose keys span slots is split into one
//     command per slot when it is MGET (arrays put back in key order) or DEL, UNLINK, EXISTS,
//     TOUCH (counts added); any other (EVAL, MSET, SINTER...) fails with ClusterErrc::cross_slot.
// A request that is a single part goes out untouched. Otherwise the parts bound for one node
// leave together as one pipelined sub-request, and the sub-requests for different nodes run
// concurrently; commands keep their order per node, not across nodes (as with any cluster
// client: only a slot has an order).
//
// Redirects. A part whose replies carry -MOVED is sent again to the new owner (the map is
// patched at once and refreshed in the background); -ASK sends it once to the named node,
// preceded by ASKING (which holds through a MULTI block until EXEC). At most
// ClusterOptions::max_redirects of them; then the caller gets the last error reply.
// Failures that mean "not sent" (not_connected, connect_failed, connect_timeout, a slot with no
// known master) and the replies -CLUSTERDOWN and -TRYAGAIN are retried every kRetryPause until
// Config::request_timeout has passed since the call, with a map refresh requested each time:
// this is what carries requests through a failover. A link lost after the request was written
// (connection_lost) is retried only for idempotent requests, as Client does.
// Replicas: a part that is one read-only command goes where ClusterOptions::read_from says
// (Impl::route_read) on its first try, and to the master after any redirect; with
// read_from=replica and no replica ready it waits as a not-sent part (ClusterErrc::no_replica).

#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include "redis/cluster/cluster_impl.hpp"
#include "redis/cluster/command_keys.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <span>

namespace tiercache::redis {
namespace {

using detail::Command;
using Outcome = std::pair<error_code, resp::Reply>;
using Clock = std::chrono::steady_clock;

constexpr auto kRetryPause = std::chrono::milliseconds(50);

struct Part {
  std::vector<std::vector<std::string_view>> commands;  // views into the original payload
  std::size_t first = 0;                   // index of the first original command this part answers
  int slot = detail::kNoSlot;              // every key's slot, or kNoSlot
  std::vector<std::size_t> key_positions;  // a piece of a split command: its keys' places
  std::shared_ptr<Connection> ask;         // after -ASK: the next attempt goes there
  bool read_only = false;                  // one read-only command: a replica may answer
  int redirects = 0;
  bool done = false;
  error_code error;                  // final or last transport error
  std::vector<resp::Reply> replies;  // final or last replies
};

struct Group {
  std::shared_ptr<Connection> conn;
  std::vector<std::size_t> parts;
};

// Outcomes of the concurrent sub-requests; the last completion wakes the request coroutine.
struct Gather {
  explicit Gather(const asio::any_io_executor& ex, std::size_t n)
      : out(n), remaining(n), signals(n), wake(ex) {
    wake.expires_at(Clock::time_point::max());
  }
  std::vector<Outcome> out;
  std::size_t remaining;
  std::vector<asio::cancellation_signal> signals;
  asio::steady_timer wake;
};

resp::Reply integer_reply(std::int64_t value) {
  resp::Node node;
  node.type = resp::Type::integer;
  node.integer = value;
  static constexpr char kNoBytes = 0;
  return resp::Reply(resp::ReplyView(&kNoBytes, std::span<const resp::Node>(&node, 1)));
}

bool is_not_sent(error_code ec) {
  return ec == Errc::not_connected || ec == Errc::connect_failed || ec == Errc::connect_timeout ||
         ec == ClusterErrc::cluster_down || ec == ClusterErrc::no_replica;
}

// Cuts the request into parts; cross_slot when a block or command cannot be cut.
error_code make_parts(const std::vector<Command>& cmds, std::vector<Part>& parts) {
  for (std::size_t i = 0; i < cmds.size();) {
    const auto& args = cmds[i].args;
    if (detail::equals_upper(args[0], "MULTI")) {
      std::size_t end = i + 1;
      while (end < cmds.size() && !detail::equals_upper(cmds[end].args[0], "EXEC") &&
             !detail::equals_upper(cmds[end].args[0], "DISCARD")) {
        ++end;
      }
      end = std::min(end + 1, cmds.size());
      Part part;
      part.first = i;
      for (std::size_t k = i; k < end; ++k) {
        const int s = detail::command_slot(cmds[k].args);
        if (s == detail::kCrossSlot || (s >= 0 && part.slot >= 0 && s != part.slot)) {
          return ClusterErrc::cross_slot;
        }
        if (s >= 0) part.slot = s;
        part.commands.push_back(cmds[k].args);
      }
      parts.push_back(std::move(part));
      i = end;
      continue;
    }
    const int s = detail::command_slot(args);
    const bool read_only = s != detail::kNoSlot && detail::read_only(args[0]);
    if (s != detail::kCrossSlot) {
      Part part;
      part.first = i;
      part.slot = s;
      part.read_only = read_only;
      part.commands.push_back(args);
      parts.push_back(std::move(part));
    } else {
      if (detail::split_kind(args[0]) == detail::SplitKind::none) return ClusterErrc::cross_slot;
      std::map<int, std::size_t> piece_of_slot;  // slot -> index in parts
      for (std::size_t k = 1; k < args.size(); ++k) {
        const int ks = key_slot(args[k]);
        auto [it, fresh] = piece_of_slot.try_emplace(ks, parts.size());
        if (fresh) {
          Part piece;
          piece.first = i;
          piece.slot = ks;
          piece.read_only = read_only;
          piece.commands.push_back({args[0]});
          parts.push_back(std::move(piece));
        }
        parts[it->second].commands.front().push_back(args[k]);
        parts[it->second].key_positions.push_back(k - 1);
      }
    }
    ++i;
  }
  return {};
}

resp::Request build(const std::vector<Part>& parts, const Group& group,
                    const resp::RequestFlags& caller) {
  resp::Request req;
  for (const std::size_t p : group.parts) {
    if (parts[p].ask) req.push("ASKING");
    for (const auto& cmd : parts[p].commands) {
      req.push_range(cmd[0], "", std::span<const std::string_view>(cmd).subspan(1));
    }
  }
  req.flags().idempotent = req.flags().idempotent || caller.idempotent;
  req.flags().exclusive = req.flags().exclusive || caller.exclusive;
  return req;
}

// What a part's replies say about where it must go next.
enum class Verdict { done, redirect, transient };

Verdict judge(const std::vector<resp::Reply>& replies, const Connection& from,
              std::optional<detail::Redirect>& redirect) {
  for (const auto& r : replies) {
    if (!r.is_error()) continue;
    const std::string_view text = r.str();
    redirect = detail::parse_redirect(text, from.config().host);
    if (redirect) return Verdict::redirect;
    if (text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN")) return Verdict::transient;
  }
  return Verdict::done;
}

Outcome assemble(const std::vector<Command>& cmds, std::vector<Part>& parts) {
  for (const auto& part : parts) {
    if (part.error) return {part.error, resp::Reply()};
  }
  std::vector<resp::Reply> results(cmds.size());
  std::vector<std::vector<resp::Reply>> elements(cmds.size());  // split MGETs
  std::vector<std::int64_t> sums(cmds.size(), 0);
  std::vector<bool> failed(cmds.size(), false);
  for (auto& part : parts) {
    if (part.key_positions.empty()) {
      for (std::size_t k = 0; k < part.replies.size(); ++k) {
        results[part.first + k] = std::move(part.replies[k]);
      }
      continue;
    }
    const std::size_t c = part.first;
    const resp::Reply& reply = part.replies.front();
    if (reply.is_error() && !failed[c]) {
      failed[c] = true;
      results[c] = reply;
    }
    if (failed[c]) continue;
    if (detail::split_kind(cmds[c].args[0]) == detail::SplitKind::sum) {
      sums[c] += reply.type() == resp::Type::integer ? reply.integer() : 0;
      continue;
    }
    elements[c].resize(cmds[c].args.size() - 1);
    for (std::size_t j = 0; j < part.key_positions.size(); ++j) {
      elements[c][part.key_positions[j]] = resp::Reply(reply.at(j));
    }
  }
  for (const auto& part : parts) {
    const std::size_t c = part.first;
    if (part.key_positions.empty() || failed[c] || !results[c].view().nodes().empty()) continue;
    results[c] = detail::split_kind(cmds[c].args[0]) == detail::SplitKind::sum
                     ? integer_reply(sums[c])
                     : resp::Reply::array_of(elements[c]);
  }
  if (results.size() == 1) return {error_code(), std::move(results.front())};
  return {error_code(), resp::Reply::array_of(results)};
}

// The replies of one sub-request, one per command.
std::vector<resp::Reply> unpack(resp::Reply reply, std::size_t commands) {
  std::vector<resp::Reply> out;
  if (commands == 1) {
    out.push_back(std::move(reply));
    return out;
  }
  out.reserve(commands);
  for (const auto element : reply) out.emplace_back(element);
  return out;
}

bool cancelled(const asio::cancellation_state& state) {
  return state.cancelled() != asio::cancellation_type::none;
}

}  // namespace

asio::awaitable<Outcome> ClusterClient::Impl::run(std::shared_ptr<Impl> self,
                                                  resp::Request request) {
  const auto deadline = Clock::now() + self->config_.request_timeout;
  const auto executor = co_await asio::this_coro::executor;
  const auto state = co_await asio::this_coro::cancellation_state;
  asio::steady_timer pause(executor);

  while (!self->have_map()) {
    if (self->stopped()) co_return Outcome{Errc::stopped, resp::Reply()};
    if (Clock::now() >= deadline) co_return Outcome{ClusterErrc::cluster_down, resp::Reply()};
    self->request_refresh();
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    if (cancelled(state)) co_return Outcome{asio::error::operation_aborted, resp::Reply()};
  }

  const auto cmds = detail::split_commands(request.payload());
  if (!cmds || cmds->empty()) {
    auto conn = self->route(detail::kNoSlot);
    if (!conn) co_return Outcome{Errc::stopped, resp::Reply()};
    auto [ec, reply] =
        co_await conn->async_exec(std::move(request), asio::as_tuple(asio::use_awaitable));
    co_return Outcome{ec, std::move(reply)};
  }
  std::vector<Part> parts;
  if (const error_code ec = make_parts(*cmds, parts)) co_return Outcome{ec, resp::Reply()};
  const bool whole = parts.size() == 1 && parts.front().key_positions.empty();
  const resp::RequestFlags caller = request.flags();

  for (;;) {
    std::vector<Group> groups;
    bool transient = false;
    for (std::size_t p = 0; p < parts.size(); ++p) {
      Part& part = parts[p];
      if (part.done) continue;
      bool no_replica = false;
      std::shared_ptr<Connection> conn;
      if (part.ask) {
        conn = part.ask;
      } else if (part.read_only && self->reads_from_replicas() && part.redirects == 0 &&
                 !caller.exclusive) {
        conn = self->route_read(part.slot, no_replica);
      } else {
        conn = self->route(part.slot);
      }
      if (!conn) {
        if (self->stopped()) co_return Outcome{Errc::stopped, resp::Reply()};
        part.error = no_replica ? make_error_code(ClusterErrc::no_replica)
                                : make_error_code(ClusterErrc::cluster_down);
        transient = true;
        self->request_refresh();
        continue;
      }
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const Group& x) { return x.conn == conn; });
      if (g == groups.end()) g = groups.insert(groups.end(), Group{conn, {}});
      g->parts.push_back(p);
    }

    auto gather = std::make_shared<Gather>(executor, groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
      auto& group = groups[i];
      const bool asked = parts[group.parts.front()].ask != nullptr;
      resp::Request req = whole && !asked ? request : build(parts, group, caller);
      if (caller.exclusive) {
        group.conn = self->dedicated(*group.conn);
        if (!group.conn) co_return Outcome{Errc::stopped, resp::Reply()};
      }
      group.conn->async_exec(
          std::move(req),
          asio::bind_cancellation_slot(
              gather->signals[i].slot(),
              asio::bind_executor(executor, [gather, i](error_code ec, resp::Reply reply) {
                gather->out[i] = Outcome{ec, std::move(reply)};
                if (--gather->remaining == 0) gather->wake.cancel();
              })));
    }
    if (gather->remaining > 0) {
      co_await gather->wake.async_wait(asio::as_tuple(asio::use_awaitable));
      if (gather->remaining > 0) {
        // Cancelled: the sub-requests are cancelled too; their late completions only touch
        // `gather`, which they keep alive.
        for (auto& signal : gather->signals) signal.emit(asio::cancellation_type::terminal);
        co_return Outcome{asio::error::operation_aborted, resp::Reply()};
      }
    }

    for (std::size_t i = 0; i < groups.size(); ++i) {
      const Group& group = groups[i];
      auto& [ec, reply] = gather->out[i];
      if (ec) {
        const bool retry = is_not_sent(ec) || (ec == Errc::connection_lost && caller.idempotent);
        for (const std::size_t p : group.parts) {
          parts[p].error = ec;
          parts[p].ask = nullptr;
          parts[p].done = !retry;
        }
        // Even a timeout: a master that stopped answering may have been replaced.
        self->request_refresh();
        transient = transient || retry;
        continue;
      }
      std::size_t commands = 0;
      for (const std::size_t p : group.parts) {
        commands += parts[p].commands.size() + (parts[p].ask ? 1 : 0);
      }
      auto replies = unpack(std::move(reply), commands);
      std::size_t at = 0;
      for (const std::size_t p : group.parts) {
        Part& part = parts[p];
        if (part.ask) ++at;  // ASKING's +OK
        part.ask = nullptr;
        part.error = {};
        part.replies.assign(std::make_move_iterator(replies.begin() + static_cast<long>(at)),
                            std::make_move_iterator(replies.begin() +
                                                    static_cast<long>(at + part.commands.size())));
        at += part.commands.size();
        std::optional<detail::Redirect> redirect;
        const Verdict verdict = judge(part.replies, *group.conn, redirect);
        if (verdict == Verdict::done) {
          part.done = true;
        } else if (verdict == Verdict::redirect) {
          part.done = ++part.redirects > self->options_.max_redirects;
          if (part.done) continue;
          if (redirect->ask) {
            part.ask = self->node(redirect->to);
          } else {
            self->apply_moved(redirect->slot, redirect->to);
            self->request_refresh();
          }
        } else {
          transient = true;
          self->request_refresh();
        }
      }
    }

    if (std::all_of(parts.begin(), parts.end(), [](const Part& p) { return p.done; })) break;
    if (transient) {
      if (Clock::now() + kRetryPause >= deadline) break;
      pause.expires_after(kRetryPause);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      if (cancelled(state)) co_return Outcome{asio::error::operation_aborted, resp::Reply()};
    }
  }
  co_return assemble(*cmds, parts);
}

}  // namespace tiercache::redis
