// The connection loop. Timeouts are Beast's tcp_stream expiry: idle_timeout covers waiting for
// a request's headers (so a keep-alive connection, or a client that trickles headers, is cut
// after it), read_timeout its body, write_timeout the response. Limit violations are answered
// with a JSON error and Connection: close, since the rest of the stream cannot be trusted.

#include "server/http_session.hpp"

#include "server/api_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <exception>

namespace tiercache::server {
namespace {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The error response for a request that could not be read, or nullopt to close silently.
std::optional<ApiError> read_failure(beast::error_code ec, const Limits& limits) {
  if (ec == http::error::header_limit) {
    return ApiError{
        http::status::request_header_fields_too_large, "headers_too_large",
        "request line and headers exceed " + std::to_string(limits.max_header_bytes) + " bytes"};
  }
  if (ec == http::error::body_limit) {
    return ApiError{http::status::payload_too_large, "body_too_large",
                    "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"};
  }
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == beast::error::timeout || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::bad_descriptor ||
      ec == http::error::partial_message) {
    return std::nullopt;
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return ApiError::bad_request("bad_request", "malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

asio::awaitable<void> write_and_close(std::shared_ptr<Session> session, Response res) {
  res.keep_alive(false);
  res.prepare_payload();
  session->stream.expires_after(std::chrono::seconds(5));
  co_await http::async_write(session->stream, res, use_tuple);
  beast::error_code ec;
  session->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Closing with unread bytes makes the kernel send a reset, which can destroy the response
  // before the client reads it: read what the client still sends, a bounded amount and time.
  std::array<char, 16 * 1024> sink;
  std::size_t drained = 0;
  session->stream.expires_after(std::chrono::seconds(2));
  while (drained < (std::size_t{4} << 20)) {
    auto [read_ec, n] = co_await session->stream.async_read_some(asio::buffer(sink), use_tuple);
    if (read_ec) break;
    drained += n;
  }
}

asio::awaitable<Response> call_handler(std::shared_ptr<HttpServer::State> state, Request req) {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  try {
    co_return co_await state->handler(std::move(req));
  } catch (const std::exception& e) {
    spdlog::error("request handler threw: {}", e.what());
  }
  Request stub;
  stub.version(version);
  stub.keep_alive(keep_alive);
  co_return error_response(stub, ApiError{http::status::internal_server_error, "internal",
                                          "internal error; see the server log"});
}

}  // namespace

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> state) {
  for (;;) {
    auto [ec, socket] =
        co_await state->acceptor.async_accept(asio::make_strand(state->executor), use_tuple);
    if (ec) {
      if (state->stopping || ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: keep accepting; the connections that caused it will close.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    if (state->stopping) co_return;
    auto session = std::make_shared<Session>(std::move(socket));
    beast::error_code ep_ec;
    const auto ep = session->stream.socket().remote_endpoint(ep_ec);
    if (!ep_ec) session->remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    bool over = false;
    {
      std::lock_guard lock(state->mu);
      over = state->sessions.size() >= state->limits.max_connections;
      if (!over) {
        state->sessions.insert(session);
        state->connections = state->sessions.size();
      }
    }
    auto ex = session->stream.get_executor();
    if (over) {
      Request stub;
      stub.version(11);
      auto res = error_response(
          stub, ApiError{http::status::service_unavailable, "too_many_connections",
                         "the server has " + std::to_string(state->limits.max_connections) +
                             " connections open; retry later"});
      asio::co_spawn(ex, write_and_close(session, std::move(res)), asio::detached);
      continue;
    }
    asio::co_spawn(ex, run_session(state, session), asio::detached);
  }
}

asio::awaitable<void> run_session(std::shared_ptr<HttpServer::State> state,
                                  std::shared_ptr<Session> session) {
  beast::flat_buffer buffer;
  const Limits& limits = state->limits;
  for (;;) {
    if (state->stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    session->stream.expires_after(limits.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(session->stream, buffer, parser, use_tuple);
    const auto start = std::chrono::steady_clock::now();
    if (!ec) {
      if (parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        session->stream.expires_after(limits.write_timeout);
        std::tie(ec, n) = co_await http::async_write(session->stream, cont, use_tuple);
      }
    }
    if (!ec) {
      session->stream.expires_after(limits.read_timeout);
      std::tie(ec, n) = co_await http::async_read(session->stream, buffer, parser, use_tuple);
    }
    if (ec) {
      if (auto err = read_failure(ec, limits)) {
        Request stub;
        stub.version(11);
        auto res = error_response(stub, *err);
        state->log->write({.method = "-",
                           .target = "-",
                           .status = static_cast<unsigned>(res.result_int()),
                           .bytes = res.body().size(),
                           .duration = {},
                           .remote = session->remote});
        co_await write_and_close(session, std::move(res));
      }
      break;
    }
    session->busy = true;
    ++state->in_flight;
    Request req = parser.release();
    const std::string method(req.method_string());
    // A HEAD is answered as its GET would be, then only the header is sent (RFC 9110 9.3.2).
    const bool head = req.method() == http::verb::head;
    const std::string target(req.target());
    Response res = co_await call_handler(state, std::move(req));
    if (state->stopping) res.keep_alive(false);
    res.prepare_payload();
    session->stream.expires_after(limits.write_timeout);
    if (head) {
      http::response_serializer<http::string_body> header_only{res};
      std::tie(ec, n) = co_await http::async_write_header(session->stream, header_only, use_tuple);
    } else {
      std::tie(ec, n) = co_await http::async_write(session->stream, res, use_tuple);
    }
    --state->in_flight;
    session->busy = false;
    state->log->write({.method = method,
                       .target = target,
                       .status = static_cast<unsigned>(res.result_int()),
                       .bytes = res.body().size(),
                       .duration = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - start),
                       .remote = session->remote});
    if (ec || !res.keep_alive()) {
      beast::error_code ignored;
      session->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
  }
  beast::error_code ignored;
  session->stream.socket().close(ignored);
  HttpServer::State::session_ended(state, session);
}

}  // namespace tiercache::server
