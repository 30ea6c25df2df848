#include "cli/context.hpp"

#include "tiercache/cache/error.hpp"
#include "tiercache/redis/error.hpp"

#include "cli/redis_session.hpp"

#include <boost/asio/error.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <ostream>
#include <stdexcept>

namespace tiercache::cli {
namespace {

namespace json = boost::json;

// The daemon's error body {"error":{"code","message"}} as "message (code)", else the raw body.
std::string daemon_message(const HttpReply& reply) {
  boost::system::error_code ec;
  const auto v = json::parse(reply.body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error"); e != nullptr && e->is_object()) {
      const auto& o = e->as_object();
      const auto* code = o.if_contains("code");
      const auto* message = o.if_contains("message");
      if (message != nullptr && message->is_string()) {
        std::string text(message->as_string());
        if (code != nullptr && code->is_string())
          text += " (" + std::string(code->as_string()) + ")";
        return text;
      }
    }
  }
  std::string body = reply.body.substr(0, 200);
  std::replace(body.begin(), body.end(), '\n', ' ');
  return body.empty() ? "no details" : body;
}

}  // namespace

Context::Context(ServerUrl server_url, std::istream& in_stream, std::ostream& out_stream,
                 std::ostream& err_stream)
    : server(std::move(server_url)), in(in_stream), out(out_stream), err(err_stream) {}

Context::~Context() = default;

RedisSession& Context::redis() {
  if (!redis_) {
    std::string why;
    auto target = RedisTarget::parse(redis_url, &why);
    if (!target) throw std::invalid_argument("--redis '" + redis_url + "': " + why);
    redis_ = std::make_unique<RedisSession>(std::move(*target), timeout);
  }
  return *redis_;
}

int Context::redis_check() {
  const auto ec = redis().ping();
  return ec ? redis_failed(ec) : to_int(ExitCode::ok);
}

int Context::redis_failed(error_code ec) {
  const std::string where = redis_ ? redis_->target().text : redis_url;
  using RE = redis::Errc;
  using CE = cache::Errc;
  if (ec == RE::auth_failed || ec == RE::permission_denied) {
    err << "tiercache: Redis at " << where << " refused us: " << ec.message()
        << " — check the user and password in --redis\n";
    return to_int(ExitCode::auth_refused);
  }
  if (ec == CE::invalid_key || ec == CE::value_too_large || ec == CE::invalid_argument) {
    err << "tiercache: " << ec.message() << "\n";
    return to_int(ExitCode::usage);
  }
  const bool unreachable = ec == RE::connect_failed || ec == RE::connect_timeout ||
                           ec == RE::not_connected || ec == RE::connection_lost ||
                           ec == RE::reply_timeout || ec == RE::tls_failed ||
                           ec == RE::handshake_failed || ec == CE::redis_unavailable;
  if (unreachable) {
    err << "tiercache: cannot reach Redis at " << where << ": " << ec.message() << " — "
        << (ec == RE::reply_timeout ? "is it overloaded or stopped? (--timeout)"
                                    : "is it running? (--redis)")
        << "\n";
    return to_int(ExitCode::unreachable);
  }
  err << "tiercache: Redis at " << where << ": " << ec.message() << "\n";
  return to_int(ExitCode::server_error);
}

HttpClient& Context::client() {
  if (!client_) client_ = std::make_unique<HttpClient>(server, token, timeout);
  return *client_;
}

Context::Call Context::call(http::verb method, const std::string& target, std::string body,
                            std::initializer_list<int> also_ok,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  Call c;
  auto r = client().request(method, target, std::move(body), headers);
  if (!r) {
    c.exit = unreachable(r.error());
    return c;
  }
  const bool ok =
      r->status < 300 || std::find(also_ok.begin(), also_ok.end(), r->status) != also_ok.end();
  if (!ok) {
    c.exit = refused(*r);
    return c;
  }
  c.reply = std::move(*r);
  return c;
}

int Context::unreachable(error_code ec) {
  std::string why = ec.message();
  std::transform(why.begin(), why.end(), why.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  std::string hint = "is it running? (--server)";
  if (ec == boost::asio::error::timed_out) {
    why = "no answer within " + std::to_string(timeout.count()) + " ms";
    hint = "is it overloaded or stopped? (--timeout)";
  } else if (ec == boost::asio::error::host_not_found ||
             ec == boost::asio::error::host_not_found_try_again) {
    hint = "check the host name (--server)";
  }
  err << "tiercache: cannot reach tiercached at " << server.text << ": " << why << " — " << hint
      << "\n";
  return to_int(ExitCode::unreachable);
}

int Context::refused(const HttpReply& reply) {
  const std::string message = daemon_message(reply);
  const std::string status = std::to_string(reply.status);
  if (reply.status == 401 || reply.status == 403) {
    err << "tiercache: tiercached refused the request (" << status << "): " << message << " — "
        << (token.empty() ? "give the admin token with --token or TIERCACHE_TOKEN"
                          : "check the token (--token or TIERCACHE_TOKEN)")
        << "\n";
    return to_int(ExitCode::auth_refused);
  }
  if (reply.status == 404) {
    err << "tiercache: not found: " << message << "\n";
    return to_int(ExitCode::not_found);
  }
  if (reply.status == 400 || reply.status == 413 || reply.status == 405) {
    err << "tiercache: tiercached rejected the request (" << status << "): " << message << "\n";
    return to_int(ExitCode::usage);
  }
  if (reply.status == 429) {
    err << "tiercache: rate-limited (429): " << message << "\n";
    return to_int(ExitCode::refused);
  }
  err << "tiercache: tiercached failed (" << status << "): " << message
      << (reply.status == 503 ? " — is Redis up? (tiercache health)" : "") << "\n";
  return to_int(ExitCode::server_error);
}

int Context::bad_reply(std::string_view what) {
  err << "tiercache: unexpected answer from " << server.text << ": " << what
      << " — is it a tiercached? (--server)\n";
  return to_int(ExitCode::server_error);
}

int Context::fail(ExitCode code, std::string_view message) {
  err << "tiercache: " << message << "\n";
  return to_int(code);
}

std::optional<boost::json::value> Context::parse_json(const HttpReply& reply) {
  boost::system::error_code ec;
  auto v = json::parse(reply.body, ec);
  if (ec) {
    bad_reply("the body is not JSON");
    return std::nullopt;
  }
  return v;
}

}  // namespace tiercache::cli
