#pragma once
// TestUpstreamServer: a tiny HTTP/1.1 server (plain or TLS) on 127.0.0.1, port 0, on its own
// thread, for the proxy's upstream-client tests. Answers with a handler, or misbehaves as told:
// never answers, sends raw bytes, closes kept-alive connections, answers late. Counts connections.
// Use: TestUpstreamServer s({.handler = ...}); Upstream up(ex, {.base_url = s.url("/api")});
// Thread-safety: the counters and last_request() from any thread; the behaviour is fixed.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tiercache::test {

struct UpstreamBehaviour {
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  // Answers a request; the server adds Content-Length (unless chunked) and keep-alive as asked.
  // Default: 200 "ok".
  std::function<Response(const Request&)> handler{};
  // Non-empty: written verbatim instead of a response, then the connection is closed.
  std::string raw_reply{};
  // Reads the request and never answers (until the client goes away).
  bool never_answer = false;
  // Closes the connection after each response, although the response allowed keep-alive.
  bool close_after_response = false;
  // Waits this long before answering.
  std::chrono::milliseconds delay{0};
  // Both set: TLS with this certificate chain and key (PEM files).
  std::string cert_file{};
  std::string key_file{};
};

class TestUpstreamServer {
 public:
  using Request = UpstreamBehaviour::Request;
  using Response = UpstreamBehaviour::Response;

  explicit TestUpstreamServer(UpstreamBehaviour behaviour)
      : behaviour_(std::move(behaviour)), acceptor_(io_) {
    namespace asio = boost::asio;
    if (!behaviour_.cert_file.empty()) {
      ssl_.use_certificate_chain_file(behaviour_.cert_file);
      ssl_.use_private_key_file(behaviour_.key_file, asio::ssl::context::pem);
    }
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestUpstreamServer() {
    io_.stop();
    thread_.join();
  }
  TestUpstreamServer(const TestUpstreamServer&) = delete;
  TestUpstreamServer& operator=(const TestUpstreamServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>" (https with a certificate).
  std::string url(const std::string& path = "") const {
    return (behaviour_.cert_file.empty() ? "http" : "https") + std::string("://127.0.0.1:") +
           std::to_string(port_) + path;
  }
  std::size_t accepted() const { return accepted_; }
  std::size_t closed() const { return closed_; }
  std::size_t max_open() const { return max_open_; }
  std::size_t requests() const { return requests_; }
  Request last_request() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  static constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      ++accepted_;
      const std::size_t now = ++open_;
      if (now > max_open_) max_open_ = now;  // one server thread: no race
      boost::asio::co_spawn(io_, session(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    if (behaviour_.cert_file.empty()) {
      boost::beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, buffer);
    } else {
      boost::beast::ssl_stream<boost::beast::tcp_stream> stream(std::move(socket), ssl_);
      auto [ec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server, use_tuple);
      if (!ec) co_await serve(stream, buffer);
    }
    --open_;
    ++closed_;
  }

  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream, boost::beast::flat_buffer& buffer) {
    namespace http = boost::beast::http;
    for (;;) {
      Request req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
      if (ec) co_return;
      {
        std::lock_guard lock(mu_);
        last_ = req;
      }
      ++requests_;
      if (behaviour_.never_answer) {
        char byte = 0;
        co_await stream.async_read_some(boost::asio::buffer(&byte, 1), use_tuple);
        co_return;
      }
      if (!behaviour_.raw_reply.empty()) {
        co_await boost::asio::async_write(stream, boost::asio::buffer(behaviour_.raw_reply),
                                          use_tuple);
        co_return;
      }
      if (behaviour_.delay.count() > 0) {
        boost::asio::steady_timer timer(io_, behaviour_.delay);
        co_await timer.async_wait(use_tuple);
      }
      Response res{http::status::ok, 11};
      if (behaviour_.handler) {
        res = behaviour_.handler(req);
      } else {
        res.body() = "ok";
      }
      if (res.find(http::field::connection) == res.end() && res.version() == 11) {
        res.keep_alive(req.keep_alive());
      }
      if (!res.chunked() && !res.has_content_length()) res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      if (wec || !res.keep_alive() || behaviour_.close_after_response) co_return;
    }
  }

  const UpstreamBehaviour behaviour_;
  boost::asio::ssl::context ssl_{boost::asio::ssl::context::tls_server};
  // After ssl_: its destructor destroys the sessions' frames, whose TLS streams use ssl_.
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> closed_{0};
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> max_open_{0};
  std::atomic<std::size_t> requests_{0};
  mutable std::mutex mu_;
  Request last_;
  std::thread thread_;
};

}  // namespace tiercache::test
