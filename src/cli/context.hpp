#pragma once
// Context: what every subcommand gets — the daemon's address and token (or, with --redis, the
// Redis URL), the output mode, the streams — and the one place where failed calls become a
// message on stderr and an exit code.
// Use: auto r = ctx.call(http::verb::get, "/v1/stats"); if (!r) return r.exit;
//      if (ctx.redis_mode()) { if (int code = ctx.redis_check()) return code; ... ctx.redis() }
// Thread-safety: not thread-safe; bench's workers make their own HttpClient.

#include "cli/exit_code.hpp"
#include "cli/http_client.hpp"
#include "cli/run.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace tiercache::cli {

class RedisSession;

struct Context {
  // Out of line, as the destructor: RedisSession is complete only in context.cpp.
  Context(ServerUrl server_url, std::istream& in_stream, std::ostream& out_stream,
          std::ostream& err_stream);

  ServerUrl server;
  std::string token{};
  bool json = false;  // --json: machine-readable output on stdout
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  Terminal terminal{};
  // --redis URL (checked by run()): the commands that support it talk to Redis through the
  // library instead of to the daemon. Empty: the daemon.
  std::string redis_url{};

  ~Context();

  // The connection, made on first use.
  HttpClient& client();

  bool redis_mode() const noexcept { return !redis_url.empty(); }
  // The link to Redis, made on first use. REQUIRES: redis_mode().
  RedisSession& redis();
  // PING: 0 when Redis answers, else the failure is reported and its exit code returned.
  int redis_check();
  // Reports a failed Redis or cache operation and returns its exit code: 3 unreachable (or no
  // answer in time), 4 password or ACL refused, 2 input the cache refused (key, value size,
  // argument), 5 anything else.
  int redis_failed(error_code ec);

  // The outcome of call(): the reply when the daemon answered with one of the accepted
  // statuses; otherwise the error is already on stderr and `exit` says what to return.
  struct Call {
    std::optional<HttpReply> reply;
    int exit = 0;
    explicit operator bool() const noexcept { return reply.has_value(); }
    const HttpReply* operator->() const { return &*reply; }
  };
  // One request. Statuses below 300, and those in `also_ok`, are answers; others are reported
  // (with the daemon's own message) and mapped: 400/413 usage, 401/403 auth_refused, 404
  // not_found, 5xx server_error; a transport failure is unreachable.
  Call call(http::verb method, const std::string& target, std::string body = {},
            std::initializer_list<int> also_ok = {},
            const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Reports a transport failure ("cannot reach tiercached at ...") and returns 3.
  int unreachable(error_code ec);
  // Reports a reply the daemon refused, and returns its exit code.
  int refused(const HttpReply& reply);
  // Reports a reply that is not what the API promises and returns 5.
  int bad_reply(std::string_view what);
  // Prints "tiercache: <message>" on stderr and returns `code`.
  int fail(ExitCode code, std::string_view message);

  // The JSON body of a reply, or nullopt (after bad_reply) when it is not JSON.
  std::optional<boost::json::value> parse_json(const HttpReply& reply);

 private:
  std::unique_ptr<HttpClient> client_{};
  std::unique_ptr<RedisSession> redis_{};
};

}  // namespace tiercache::cli
