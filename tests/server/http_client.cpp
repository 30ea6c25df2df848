// HttpClient: see http_client.hpp.

#include "tests/server/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <stdexcept>

namespace tiercache::test {

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds deadline)
    : port_(port), deadline_(deadline), stream_(io_) {}

HttpResponse HttpClient::request(http::verb method, const std::string& target, std::string body,
                                 const std::map<std::string, std::string>& headers) {
  HttpRequest req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  if (!req.body().empty() || method == http::verb::put || method == http::verb::post) {
    req.prepare_payload();
  }
  return send(req);
}

HttpResponse HttpClient::raw(const std::string& bytes) {
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

HttpResponse HttpClient::send(HttpRequest& req) {
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
  return read_response(req.method() == http::verb::head);
}

bool HttpClient::server_closed() {
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

void HttpClient::close() {
  boost::system::error_code ec;
  stream_.socket().close(ec);
  connected_ = false;
  buffer_.clear();
}

std::string HttpClient::error_code(const HttpResponse& res) {
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body(), ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) return "";
  const auto& e = v.as_object().at("error");
  if (!e.is_object() || !e.as_object().contains("code")) return "";
  return std::string(e.as_object().at("code").as_string());
}

void HttpClient::ensure_connected() {
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

HttpResponse HttpClient::read_response(bool head) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  parser.skip(head);  // the answer to a HEAD has a Content-Length but no body
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

void HttpClient::run(bool& done) {
  io_.restart();
  while (!done && io_.run_one() > 0) {
  }
}

boost::json::value HttpClient::json(const HttpResponse& res) {
  return boost::json::parse(res.body());
}

}  // namespace tiercache::test
