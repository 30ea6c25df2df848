#pragma once
// AnyClient: the one interface of every Redis deployment tiercache talks to, a single server
// (Client) or a Redis Cluster (ClusterClient), so the layers above never know which it is.
// Use:  resp::Request req; req.push("GET", key);
//       Result<resp::Reply> r = co_await redis.exec(std::move(req));   // coroutine
//       redis.async_exec(std::move(req), [](error_code ec, resp::Reply r) {...});  // any token
// Thread-safety: safe to call from any thread; completions run on the token's executor.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/config.hpp"
#include "tiercache/redis/exec_handler.hpp"
#include "tiercache/redis/link.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace tiercache::redis {

namespace asio = boost::asio;

class AnyClient {
 public:
  using executor_type = asio::any_io_executor;
  using ExecSignature = void(error_code, resp::Reply);
  using ExecHandler = redis::ExecHandler;

  virtual ~AnyClient() = default;

  // Sends a request and completes with its reply: for a request of one command, that command's
  // reply; for several, a synthetic array of their replies in order (Reply::array_of).
  // Completes with: (error_code, Reply). A Redis error reply is a Reply with is_error() and no
  //   error_code; the error_code is a redis::Errc (timeout, lost link, ...) or operation_aborted.
  // Cancellation: terminal. A request not yet written is dropped; one written has its reply
  //   discarded when it arrives. The client stays usable.
  // Lifetimes: the request is moved in; nothing the caller holds must outlive the call.
  // Example: examples/hello_redis.cpp
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_exec(resp::Request request, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, ExecSignature>(
        [this](auto handler, resp::Request req) {
          if constexpr (std::is_same_v<decltype(handler), ExecHandler>) {
            do_exec(std::move(req), std::move(handler));  // a client passing its caller's on
          } else {
            do_exec(std::move(req), ExecHandler(std::move(handler), get_executor()));
          }
        },
        token, std::move(request));
  }

  // async_exec for coroutines, with the outcome as a value.
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec(resp::Request request);

  virtual executor_type get_executor() = 0;

  // Starts connecting in the background. Idempotent. Requests made earlier wait for the first
  // connection, within their timeout.
  virtual void start() = 0;
  // Closes every link; requests in progress complete with Errc::stopped. Idempotent.
  virtual void stop() = 0;

  // Receives every push message of every link. Set before start().
  virtual void set_push_handler(PushHandler handler) = 0;
  // Hears every link go up or down. Set before start().
  virtual void set_link_handler(LinkHandler handler) = 0;

  virtual const Config& config() const noexcept = 0;

  // Where the keyspace lives, for work that must see every key (SCAN): one server is one
  // primary, a cluster has one per master ("host:port"), as of its current slot map.
  virtual std::vector<std::string> primaries() const { return {config().describe()}; }
  // Sends a request to one of primaries() as it is, not routed by key (SCAN, DBSIZE, INFO).
  // A name that is no longer a primary (a failover since primaries()) still reaches that node if
  // it is linked, else completes with Errc::not_connected. One server ignores the name.
  // Completes, cancels and lives as async_exec.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_exec_on(std::string primary, resp::Request request, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, ExecSignature>(
        [this](auto handler, std::string at, resp::Request req) {
          if constexpr (std::is_same_v<decltype(handler), ExecHandler>) {
            do_exec_on(std::move(at), std::move(req), std::move(handler));
          } else {
            do_exec_on(std::move(at), std::move(req),
                       ExecHandler(std::move(handler), get_executor()));
          }
        },
        token, std::move(primary), std::move(request));
  }
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec_on(std::string primary,
                                                             resp::Request request);

  // Whether one script, MULTI block or MSET may name keys of different hash slots: yes on one
  // server; no on a cluster (ClusterErrc::cross_slot), where callers group keys by
  // redis::key_slot (redis/slot.hpp) or give them one {hash tag}.
  virtual bool cross_slot_allowed() const noexcept { return true; }

 protected:
  virtual void do_exec(resp::Request request, ExecHandler handler) = 0;
  // One server: the request goes where every request goes.
  virtual void do_exec_on(std::string /*primary*/, resp::Request request, ExecHandler handler) {
    do_exec(std::move(request), std::move(handler));
  }
};

}  // namespace tiercache::redis
