#pragma once
// HttpClient: a small blocking HTTP/1.1 client for the server tests, on Beast, with a deadline
// on every call (a hung server fails the test instead of hanging it). Keeps its connection
// alive between requests, as real clients do; reconnects when the server closed it.
// Use: HttpClient c(port); auto res = c.request(http::verb::get, "/healthz");
// Thread-safety: not thread-safe; one per test thread.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace tiercache::test {

namespace http = boost::beast::http;
using HttpResponse = http::response<http::string_body>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port,
                      std::chrono::milliseconds deadline = std::chrono::seconds(20))
      : port_(port), deadline_(deadline), stream_(io_) {}

  // Sends one request and reads its response. Throws boost::system::system_error on a
  // transport failure or a missed deadline.
  HttpResponse request(http::verb method, const std::string& target, std::string body = {},
                       const std::map<std::string, std::string>& headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    if (!req.body().empty() || method == http::verb::put || method == http::verb::post) {
      req.prepare_payload();
    }
    return send(req);
  }

  // Sends raw bytes (for malformed requests) and reads one response.
  HttpResponse raw(const std::string& bytes) {
    ensure_connected();
    boost::system::error_code ec;
    stream_.expires_after(deadline_);
    bool done = false;
    boost::asio::async_write(stream_, boost::asio::buffer(bytes),
                             [&](boost::system::error_code e, std::size_t) {
                               ec = e;
                               done = true;
                             });
    run(done);
    if (ec) throw boost::system::system_error(ec);
    return read_response();
  }

  template <class Body>
  HttpResponse send(http::request<Body>& req) {
    ensure_connected();
    boost::system::error_code ec;
    bool done = false;
    stream_.expires_after(deadline_);
    http::async_write(stream_, req, [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    run(done);
    if (ec) {
      // The server may have closed a kept-alive connection: one fresh try.
      close();
      ensure_connected();
      done = false;
      stream_.expires_after(deadline_);
      http::async_write(stream_, req, [&](boost::system::error_code e, std::size_t) {
        ec = e;
        done = true;
      });
      run(done);
      if (ec) throw boost::system::system_error(ec);
    }
    return read_response();
  }

  // Whether the server closed the connection (a read sees EOF within the deadline).
  bool server_closed() {
    if (!connected_) return true;
    char byte;
    boost::system::error_code ec;
    bool done = false;
    stream_.expires_after(deadline_);
    stream_.async_read_some(boost::asio::buffer(&byte, 1),
                            [&](boost::system::error_code e, std::size_t) {
                              ec = e;
                              done = true;
                            });
    run(done);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

  void close() {
    boost::system::error_code ec;
    stream_.socket().close(ec);
    connected_ = false;
    buffer_.clear();
  }

  static boost::json::value json(const HttpResponse& res) { return boost::json::parse(res.body()); }
  // The "code" of a JSON error body, or "" when the body is not one.
  static std::string error_code(const HttpResponse& res) {
    boost::system::error_code ec;
    auto v = boost::json::parse(res.body(), ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) return "";
    const auto& e = v.as_object().at("error");
    if (!e.is_object() || !e.as_object().contains("code")) return "";
    return std::string(e.as_object().at("code").as_string());
  }

 private:
  void ensure_connected() {
    if (connected_) return;
    boost::system::error_code ec;
    bool done = false;
    stream_.expires_after(deadline_);
    stream_.async_connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_),
        [&](boost::system::error_code e) {
          ec = e;
          done = true;
        });
    run(done);
    if (ec) throw boost::system::system_error(ec);
    connected_ = true;
  }

  HttpResponse read_response() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    boost::system::error_code ec;
    bool done = false;
    stream_.expires_after(deadline_);
    http::async_read(stream_, buffer_, parser, [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    run(done);
    if (ec) {
      close();
      throw boost::system::system_error(ec);
    }
    auto res = parser.release();
    if (!res.keep_alive()) close();
    return res;
  }

  void run(bool& done) {
    io_.restart();
    while (!done && io_.run_one() > 0) {
    }
  }

  std::uint16_t port_;
  std::chrono::milliseconds deadline_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace tiercache::test
