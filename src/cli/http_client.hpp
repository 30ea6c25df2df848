#pragma once
// HttpClient: the CLI's link to tiercached. One blocking HTTP/1.1 connection (Boost.Beast), kept
// alive between requests and reopened when the daemon closed it, with a deadline on every call.
// Transport failures (refused, timed out, reset) are values, not exceptions.
// Use: HttpClient c(*parse_server_url("http://127.0.0.1:8080"), token);
//      Result<HttpReply> r = c.request(http::verb::get, "/v1/stats");
// Thread-safety: not thread-safe; one per thread (bench gives each worker its own).

#include "tiercache/base/result.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::cli {

namespace http = boost::beast::http;

// A daemon's address as given by --server: http://HOST[:PORT][/PREFIX].
struct ServerUrl {
  std::string host;
  std::string port;         // Default: "80" when the URL names none
  std::string base_path{};  // prepended to every target; no trailing '/'
  std::string text{};       // as the user wrote it, for messages
};

// The URL's parts, or nullopt (and *why set) when it is not an http:// URL.
std::optional<ServerUrl> parse_server_url(std::string_view text, std::string* why);

// Whether the host is this machine (127.0.0.0/8, ::1, localhost): bench refuses others unless
// asked, so that a typo does not load a production daemon.
bool is_loopback(const ServerUrl& url);

// Percent-encodes one path segment or query value: everything but A-Z a-z 0-9 - . _ ~.
std::string url_encode(std::string_view text);

struct HttpReply {
  int status = 0;
  std::string body{};
  std::map<std::string, std::string> headers{};  // names lower-case

  // The header's value, or "" when absent. `name` is lower-case.
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  // `token`, when not empty, goes out as "Authorization: Bearer <token>" on every request.
  HttpClient(ServerUrl server, std::string token,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends one request (target relative to the server's base path) and reads its answer.
  // Completes with: the reply, whatever its status; or a transport error (connection_refused,
  // timed_out, host_not_found, ...). One fresh try when a kept-alive connection was closed.
  [[nodiscard]] Result<HttpReply> request(
      http::verb method, const std::string& target, std::string body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {});

  const ServerUrl& server() const noexcept { return server_; }

 private:
  [[nodiscard]] error_code connect();
  [[nodiscard]] Result<HttpReply> exchange(
      http::verb method, const std::string& target, const std::string& body,
      const std::vector<std::pair<std::string, std::string>>& headers);
  void close();

  ServerUrl server_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace tiercache::cli
