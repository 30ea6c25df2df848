#pragma once
// HttpClient: a small blocking HTTP/1.1 client for the server tests, on Beast, with a deadline
// on every call (a hung server fails the test instead of hanging it). Keeps its connection
// alive between requests, as real clients do; reconnects when the server closed it.
// Compiled once (http_client.cpp): Beast's read and write algorithms are the heaviest templates
// a test would otherwise instantiate.
// Use: HttpClient c(port); auto res = c.request(http::verb::get, "/healthz");
// Thread-safety: not thread-safe; one per test thread.

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace tiercache::test {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port,
                      std::chrono::milliseconds deadline = std::chrono::seconds(20));

  // Sends one request and reads its response. Throws boost::system::system_error on a
  // transport failure or a missed deadline.
  HttpResponse request(http::verb method, const std::string& target, std::string body = {},
                       const std::map<std::string, std::string>& headers = {});
  // Sends a request as built by the caller; one fresh try when a kept-alive link was closed.
  HttpResponse send(HttpRequest& req);
  // Sends raw bytes (for malformed requests) and reads one response.
  HttpResponse raw(const std::string& bytes);

  // Whether the server closed the connection (a read sees EOF within the deadline).
  bool server_closed();
  void close();

  static boost::json::value json(const HttpResponse& res);
  // The "code" of a JSON error body, or "" when the body is not one.
  static std::string error_code(const HttpResponse& res);

 private:
  void ensure_connected();
  HttpResponse read_response(bool head = false);
  void run(bool& done);

  std::uint16_t port_;
  std::chrono::milliseconds deadline_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace tiercache::test
