#pragma once
// Script: a Lua script run by its SHA1 (EVALSHA), sent in full (EVAL) only when the server does
// not know it yet (NOSCRIPT: first use, a restart, SCRIPT FLUSH, another node), once, silently.
// Use: static const redis::Script incr_to("return redis.call('INCRBY', KEYS[1], ARGV[1])");
//      Result<resp::Reply> r = co_await incr_to.exec(client, {"counter"}, {"5"});
// Thread-safety: immutable after construction; copies are cheap and share the source.
//
// Outcomes, three kinds:
//   !r                 the request failed on its way (redis::Errc: timeout, lost link, ...).
//   r->is_error()      Redis or the script said no: a runtime error in the script, an error it
//                      raised (redis.error_reply("MYERR ..."), text kept as given), a wrong
//                      argument count, OOM, ... r->str() is Redis's text.
//   otherwise          the script's return value, converted by Redis (Lua table -> array,
//                      number -> integer, false/nil -> null, ...).
// A script must not raise errors whose text starts with "NOSCRIPT": that is how Redis says it
// does not know the SHA1, and the script would run a second time, by EVAL.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/any_client.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::redis {

class Script {
 public:
  // REQUIRES: source is the whole Lua script.
  explicit Script(std::string source);

  const std::string& source() const noexcept { return body_->source; }
  // SHA1 of the source, 40 lowercase hex digits: what SCRIPT LOAD would answer.
  const std::string& sha1() const noexcept { return body_->sha1; }

  // Runs the script with KEYS = keys and ARGV = args (binary-safe): EVALSHA, then EVAL once if
  // the server answers NOSCRIPT.
  // Completes with: (error_code, Reply), as AnyClient::async_exec: the script's reply or an error
  //   reply (see the top of this file); a non-empty error_code only when the request failed.
  // Cancellation: terminal, forwarded to the request in flight; the client stays usable.
  // Lifetimes: nothing; keys, args and the script's text are held by the operation. The client
  //   must outlive the operation, as for any request.
  // Example: examples/hello_redis.cpp
  template <class CompletionToken = asio::default_completion_token_t<AnyClient::executor_type>>
  auto async_exec(AnyClient& client, std::vector<std::string> keys, std::vector<std::string> args,
                  CompletionToken&& token = {}) const {
    return asio::async_compose<CompletionToken, AnyClient::ExecSignature>(
        ExecOp{body_, &client, std::move(keys), std::move(args)}, token, client);
  }

  // async_exec for coroutines, with the outcome as a value.
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec(AnyClient& client,
                                                          std::vector<std::string> keys,
                                                          std::vector<std::string> args) const;

  // EVALSHA or EVAL of this script: a request to pipeline with others, or to put into a MULTI.
  // Such a request gets no NOSCRIPT fallback: see is_noscript.
  resp::Request evalsha_request(const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) const;
  resp::Request eval_request(const std::vector<std::string>& keys,
                             const std::vector<std::string>& args) const;

  // True for Redis's answer to an EVALSHA of a script it does not have.
  static bool is_noscript(const resp::ReplyView& reply) noexcept;

 private:
  struct Body {
    std::string source;
    std::string sha1;
  };

  // EVALSHA; on NOSCRIPT, EVAL; then completes.
  struct ExecOp {
    std::shared_ptr<const Body> body;
    AnyClient* client;
    std::vector<std::string> keys;
    std::vector<std::string> args;
    bool retried = false;

    template <class Self>
    void operator()(Self& self) {
      client->async_exec(make_request(*body, false, keys, args), std::move(self));
    }
    template <class Self>
    void operator()(Self& self, error_code ec, resp::Reply reply) {
      if (!ec && !retried && is_noscript(reply)) {
        retried = true;
        client->async_exec(make_request(*body, true, keys, args), std::move(self));
        return;
      }
      self.complete(ec, std::move(reply));
    }
  };

  static resp::Request make_request(const Body& body, bool eval,
                                    const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args);

  std::shared_ptr<const Body> body_;
};

}  // namespace tiercache::redis
