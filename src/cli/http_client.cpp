// The CLI's blocking HTTP client: Beast's async operations driven to completion on a private
// io_context, because only the async forms honour tcp_stream's deadline.

#include "cli/http_client.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>

namespace tiercache::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Runs the io_context until `done`: each call starts exactly one operation.
void run_until(asio::io_context& io, const bool& done) {
  io.restart();
  while (!done && io.run_one() > 0) {
  }
}

}  // namespace

std::optional<ServerUrl> parse_server_url(std::string_view text, std::string* why) {
  const auto fail = [&](std::string message) -> std::optional<ServerUrl> {
    if (why != nullptr) *why = std::move(message);
    return std::nullopt;
  };
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    if (text.substr(0, 8) == "https://") {
      return fail("https is not supported; put tiercached behind a local http:// address");
    }
    return fail("the server URL must start with http:// (as http://127.0.0.1:8080)");
  }
  ServerUrl url;
  url.text = std::string(text);
  std::string_view rest = text.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    url.base_path = std::string(path);
  }
  if (authority.empty()) return fail("the server URL names no host");
  if (authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in the server URL's host");
    url.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return fail("junk after ']' in the URL");
  } else {
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  url.port = "80";
  if (!authority.empty()) {  // ":port"
    const auto port = authority.substr(1);
    const bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
      return fail("the server URL's port must be 1-65535");
    }
    url.port = std::string(port);
  }
  if (url.host.empty()) return fail("the server URL names no host");
  return url;
}

bool is_loopback(const ServerUrl& url) {
  if (url.host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(url.host, ec);
  return !ec && address.is_loopback();
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string HttpReply::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(ServerUrl server, std::string token, std::chrono::milliseconds timeout)
    : server_(std::move(server)), token_(std::move(token)), timeout_(timeout), stream_(io_) {}

void HttpClient::close() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

error_code HttpClient::connect() {
  tcp::resolver resolver(io_);
  boost::system::error_code ec;
  const auto endpoints = resolver.resolve(server_.host, server_.port, ec);
  if (ec) return ec;
  bool done = false;
  stream_.expires_after(timeout_);
  stream_.async_connect(endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  run_until(io_, done);
  if (ec == beast::error::timeout) ec = asio::error::timed_out;
  if (ec) {
    close();
    return ec;
  }
  stream_.socket().set_option(tcp::no_delay(true), ec);
  connected_ = true;
  return {};
}

Result<HttpReply> HttpClient::exchange(
    http::verb method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req{method, server_.base_path + target, 11};
  req.set(http::field::host, server_.host + ":" + server_.port);
  req.set(http::field::user_agent, "tiercache-cli");
  if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.keep_alive(true);
  if (!body.empty() || method == http::verb::put || method == http::verb::post) {
    req.body() = body;
  }
  req.prepare_payload();

  boost::system::error_code ec;
  bool done = false;
  stream_.expires_after(timeout_);
  http::async_write(stream_, req, [&](boost::system::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(io_, done);
  if (ec) return ec;

  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  done = false;
  stream_.expires_after(timeout_);
  http::async_read(stream_, buffer_, parser, [&](boost::system::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(io_, done);
  if (ec) return ec;
  auto res = parser.release();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    reply.headers[lower(field.name_string())] = std::string(field.value());
  reply.body = std::move(res.body());
  if (!res.keep_alive()) close();
  return reply;
}

Result<HttpReply> HttpClient::request(
    http::verb method, const std::string& target, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  const bool reused = connected_;
  if (!connected_) {
    if (auto ec = connect()) return ec;
  }
  auto r = exchange(method, target, body, headers);
  if (r) return r;
  close();
  // A kept-alive link the daemon closed meanwhile fails at once (EOF, reset): try a fresh one.
  // A timeout is not retried: the request may have been acted on.
  const auto ec = r.error();
  if (reused && ec != beast::error::timeout) {
    if (auto e = connect()) return e;
    r = exchange(method, target, body, headers);
    if (!r) close();
  }
  if (!r && r.error() == beast::error::timeout) return error_code(asio::error::timed_out);
  return r;
}

}  // namespace tiercache::cli
