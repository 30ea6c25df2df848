// The connection loop. Timeouts are the session's deadline and watchdog (http_session.hpp):
// idle_timeout covers waiting for a request's headers (so a keep-alive connection, or a client
// that trickles headers, is cut after it), read_timeout its body, write_timeout the response.
// Limit violations are answered with a JSON error and Connection: close, since the rest of the
// stream cannot be trusted.
//
// Why not Beast's tcp_stream and http::async_write: on a cache hit the server's own work is a
// few microseconds, and the profile of a hit (bench/README.md, http/proxy_vs_nginx) was spread
// over what surrounds it: a timer armed and cancelled per read and per write, a strand hop per
// completion, Beast's serializer walking a buffers_cat_view of every field. Here a connection
// lives on one thread (no strand), a read or write moves a deadline (one clock read), and the
// response's header block is written into a buffer the connection keeps, then sent with its
// body in one gathered write.

#include "server/http_session.hpp"

#include "server/api_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <exception>
#include <string_view>
#include <variant>

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
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::bad_descriptor || ec == http::error::partial_message) {
    return std::nullopt;
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return ApiError::bad_request("bad_request", "malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

// The status line and header block of `res` (its fields as they are, then an empty line).
void serialize_head(const Response& res, std::string& out) {
  out.clear();
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  std::array<char, 8> code{};
  const auto [end, ec] = std::to_chars(code.data(), code.data() + code.size(), res.result_int());
  out.append(code.data(), end);
  out += ' ';
  out += res.reason();
  out += "\r\n";
  for (const auto& field : res) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

// Writes session.head and then `body` in one gathered write (the head alone when `header_only`,
// for HEAD).
asio::awaitable<beast::error_code> write_head_and_body(Session& session, std::string_view body,
                                                       bool header_only) {
  const std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(session.head), header_only ? asio::const_buffer() : asio::buffer(body)};
  auto [ec, n] = co_await asio::async_write(session.socket, buffers, use_tuple);
  co_return ec;
}

// Writes the response: header block and body in one gathered write. REQUIRES: prepare_payload()
// done.
asio::awaitable<beast::error_code> write_response(Session& session, const Response& res,
                                                  bool header_only) {
  serialize_head(res, session.head);
  return write_head_and_body(session, res.body(), header_only);
}

// Writes either kind of reply; when the server is stopping, with Connection: close.
asio::awaitable<beast::error_code> write_reply(Session& session, Reply& reply, bool header_only,
                                               bool stopping) {
  if (auto* res = std::get_if<Response>(&reply)) {
    if (stopping) res->keep_alive(false);
    res->prepare_payload();
    return write_response(session, *res, header_only);
  }
  auto& prebuilt = std::get<PrebuiltResponse>(reply);
  if (stopping) prebuilt.keep_alive(false);
  prebuilt.write_head(session.head);
  return write_head_and_body(session, prebuilt.body(), header_only);
}

asio::awaitable<void> write_and_close(std::shared_ptr<Session> session, Response res) {
  res.keep_alive(false);
  res.prepare_payload();
  session->expires_after(std::chrono::seconds(5));
  co_await write_response(*session, res, false);
  beast::error_code ec;
  session->socket.shutdown(tcp::socket::shutdown_send, ec);
  // Closing with unread bytes makes the kernel send a reset, which can destroy the response
  // before the client reads it: read what the client still sends, a bounded amount and time.
  std::array<char, 16 * 1024> sink;
  std::size_t drained = 0;
  session->expires_after(std::chrono::seconds(2));
  while (drained < (std::size_t{4} << 20)) {
    auto [read_ec, n] = co_await session->socket.async_read_some(asio::buffer(sink), use_tuple);
    if (read_ec) break;
    drained += n;
  }
}

// Closes the connection once its deadline passes. It wakes at the deadline or after `tick`,
// whichever comes first, so a deadline moved earlier meanwhile (a write's after an idle wait's)
// is seen within a tick without cancelling the timer. Ends when the connection loop does.
asio::awaitable<void> watch(std::shared_ptr<Session> session, std::chrono::milliseconds tick) {
  while (!session->ended) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= session->deadline) {
      session->close();
      break;
    }
    session->watchdog.expires_at(std::min(session->deadline, now + tick));
    auto [ec] = co_await session->watchdog.async_wait(use_tuple);
    if (ec) break;  // cancelled: the connection loop has ended
  }
}

// How often a watchdog looks: 1 s, or the smallest timeout when one is shorter.
std::chrono::milliseconds watch_tick(const Limits& limits) {
  using std::chrono::milliseconds;
  const auto smallest = std::min({limits.idle_timeout, limits.read_timeout, limits.write_timeout});
  return std::clamp(std::chrono::duration_cast<milliseconds>(smallest), milliseconds(1),
                    milliseconds(1000));
}

// Both loops of a connection: the watchdog beside the request loop.
asio::awaitable<void> start_session(std::shared_ptr<HttpServer::State> state,
                                    std::shared_ptr<Session> session,
                                    std::optional<Response> refuse) {
  session->expires_after(state->limits.idle_timeout);
  asio::co_spawn(session->socket.get_executor(), watch(session, watch_tick(state->limits)),
                 asio::detached);
  if (refuse) {
    co_await write_and_close(session, std::move(*refuse));
    session->ended = true;
    session->watchdog.cancel();
    beast::error_code ignored;
    session->socket.close(ignored);
    co_return;
  }
  co_await run_session(std::move(state), std::move(session));
}

asio::awaitable<Reply> call_handler(std::shared_ptr<HttpServer::State> state, Request req) {
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

void Session::close() {
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> state) {
  std::size_t next = 0;
  for (;;) {
    const auto& executors = state->connection_executors;
    auto [ec, socket] =
        co_await state->acceptor.async_accept(executors[next++ % executors.size()], use_tuple);
    if (ec) {
      if (state->stopping || ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: keep accepting; the connections that caused it will close.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    if (state->stopping) co_return;
    auto session = std::make_shared<Session>(std::move(socket));
    beast::error_code ep_ec;
    // Responses go out in one write each: Nagle would only hold back the next one.
    session->socket.set_option(tcp::no_delay(true), ep_ec);
    const auto ep = session->socket.remote_endpoint(ep_ec);
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
    auto ex = session->socket.get_executor();
    std::optional<Response> refuse;
    if (over) {
      Request stub;
      stub.version(11);
      refuse = error_response(
          stub, ApiError{http::status::service_unavailable, "too_many_connections",
                         "the server has " + std::to_string(state->limits.max_connections) +
                             " connections open; retry later"});
    }
    asio::co_spawn(ex, start_session(state, std::move(session), std::move(refuse)), asio::detached);
  }
}

asio::awaitable<void> run_session(std::shared_ptr<HttpServer::State> state,
                                  std::shared_ptr<Session> session) {
  beast::flat_buffer buffer;
  const Limits& limits = state->limits;
  AccessLog& log = *state->log;
  for (;;) {
    if (state->stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    session->expires_after(limits.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(session->socket, buffer, parser, use_tuple);
    const auto start = std::chrono::steady_clock::now();
    if (!ec && !parser.is_done()) {
      if (parser.get()[http::field::expect] == "100-continue") {
        Response cont{http::status::continue_, 11};
        session->expires_after(limits.write_timeout);
        ec = co_await write_response(*session, cont, true);
      }
      if (!ec) {
        session->expires_after(limits.read_timeout);
        std::tie(ec, n) = co_await http::async_read(session->socket, buffer, parser, use_tuple);
      }
    }
    if (ec) {
      if (auto err = read_failure(ec, limits)) {
        Request stub;
        stub.version(11);
        auto res = error_response(stub, *err);
        log.write({.method = "-",
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
    // Copied for the access log only when it writes.
    std::string method;
    std::string target;
    if (log.enabled()) {
      method = req.method_string();
      target = req.target();
    }
    // A HEAD is answered as its GET would be, then only the header is sent (RFC 9110 9.3.2).
    const bool head = req.method() == http::verb::head;
    // No deadline while the handler runs (a proxy miss waits for its upstream's own timeouts).
    session->deadline = std::chrono::steady_clock::time_point::max();
    Reply reply = co_await call_handler(state, std::move(req));
    session->expires_after(limits.write_timeout);
    ec = co_await write_reply(*session, reply, head, state->stopping);
    --state->in_flight;
    session->busy = false;
    if (log.enabled()) {
      log.write({.method = method,
                 .target = target,
                 .status = status_of(reply),
                 .bytes = body_size(reply),
                 .duration = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - start),
                 .remote = session->remote});
    }
    if (ec || !keep_alive(reply)) {
      beast::error_code ignored;
      session->socket.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
  }
  session->ended = true;
  session->watchdog.cancel();
  beast::error_code ignored;
  session->socket.close(ignored);
  HttpServer::State::session_ended(state, session);
}

}  // namespace tiercache::server
