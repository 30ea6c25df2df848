// ClusterClient's direct path: most requests are one command on one key (GET, SET, EVALSHA of a
// one-key script), and while the slot map is right they need nothing of the routing coroutine
// (cluster_exec.cpp): no parts, no gather, no strand, no coroutine frame. Such a request goes
// straight to its slot's link, with a handler (FirstTry) that hands the caller the reply unless
// the reply says the request went to the wrong place or did not get there:
//   -MOVED      the map is patched at once (and refreshed in the background), then the routing
//               coroutine sends it again, to the new owner;
//   -ASK, -TRYAGAIN, -CLUSTERDOWN, a link not reached (not_connected, connect_*), or a link lost
//               after writing an idempotent request: the routing coroutine takes over, with its
//               redirects, retries and refreshes.
// A read-only command goes to a replica when ClusterOptions::read_from says so (route_read); a
// replica that does not serve the slot answers -MOVED to its master, handled as above.
// Only then does the request pay for the coroutine, and for the copy FirstTry keeps to resend it.
// The retry's own deadline starts when it starts: a redirected request may take up to one
// request_timeout more in all, as a request that waited for a reconnect does on Client.

#include "tiercache/redis/error.hpp"

#include "redis/cluster/cluster_impl.hpp"
#include "redis/cluster/command_keys.hpp"

#include <boost/asio/associator.hpp>

namespace tiercache::redis {
namespace {

bool not_sent(error_code ec) {
  return ec == Errc::not_connected || ec == Errc::connect_failed || ec == Errc::connect_timeout;
}

// The caller's handler for the first try; see the top of this file.
struct FirstTry {
  std::shared_ptr<ClusterClient::Impl> impl;
  std::string host;      // of the node tried, for a redirect that names none
  resp::Request resend;  // the request, for the routing coroutine
  AnyClient::ExecHandler handler;

  void operator()(error_code ec, resp::Reply reply) {
    if (!ec && !reply.is_error()) {
      std::move(handler)(ec, std::move(reply));
      return;
    }
    bool again = false;
    if (ec) {
      again = not_sent(ec) || (ec == Errc::connection_lost && resend.flags().idempotent);
      if (ec != asio::error::operation_aborted) impl->request_refresh();
    } else {
      const std::string_view text = reply.str();
      if (auto redirect = detail::parse_redirect(text, host)) {
        if (!redirect->ask) impl->apply_moved(redirect->slot, redirect->to);
        impl->request_refresh();
        again = true;
      } else if (text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN")) {
        impl->request_refresh();
        again = true;
      }
    }
    if (!again) {
      std::move(handler)(ec, std::move(reply));
      return;
    }
    ClusterClient::Impl::route_and_run(std::move(impl), std::move(resend), std::move(handler));
  }
};

}  // namespace
}  // namespace tiercache::redis

// FirstTry is the caller's handler as far as Asio is concerned: executor, cancellation slot and
// allocator are the handler's.
template <template <typename, typename> class Associator, typename DefaultCandidate>
struct boost::asio::associator<Associator, tiercache::redis::FirstTry, DefaultCandidate>
    : Associator<tiercache::redis::AnyClient::ExecHandler, DefaultCandidate> {
  using Handler = tiercache::redis::AnyClient::ExecHandler;
  static typename Associator<Handler, DefaultCandidate>::type get(
      const tiercache::redis::FirstTry& t) noexcept {
    return Associator<Handler, DefaultCandidate>::get(t.handler);
  }
  static auto get(const tiercache::redis::FirstTry& t, const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(t.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(t.handler, c);
  }
};

namespace tiercache::redis {

bool ClusterClient::Impl::try_direct(const std::shared_ptr<Impl>& self, resp::Request& request,
                                     ExecHandler& handler) {
  if (request.commands() != 1 || request.flags().exclusive || !self->have_map()) return false;
  const auto cmds = detail::split_commands(request.payload());
  if (!cmds || cmds->size() != 1) return false;
  const auto& args = cmds->front().args;
  if (detail::equals_upper(args[0], "MULTI")) return false;
  const int slot = detail::command_slot(args);
  if (slot == detail::kCrossSlot) return false;  // split by the routing coroutine
  std::shared_ptr<Connection> conn;
  if (slot >= 0 && self->reads_from_replicas() && detail::read_only(args[0])) {
    bool no_replica = false;
    conn = self->route_read(slot, no_replica);  // none: the routing coroutine waits for one
  } else {
    conn = self->route(slot);
  }
  if (!conn) return false;
  resp::Request resend = request;
  conn->async_exec(std::move(request),
                   FirstTry{self, conn->config().host, std::move(resend), std::move(handler)});
  return true;
}

}  // namespace tiercache::redis
