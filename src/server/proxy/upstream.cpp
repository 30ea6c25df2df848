// Upstream: a keep-alive pool and one request's exchange on it.
//
// The pool. `open_` counts every connection that holds a slot: in use, idle in `idle_`, or being
// connected; it never passes max_connections. A caller takes the newest idle connection (the one
// most likely still open at the server), else a slot to open one, else queues as a Waiter. A
// connection coming back is handed straight to the oldest waiter (a closed one hands over its
// slot), else pooled if the response allowed keep-alive and fewer than max_idle are idle, else
// closed. Hence the invariant: while anyone waits, `idle_` is empty and open_ == max_connections.
// Idle connections older than idle_timeout are closed lazily, when a caller next looks at the
// pool: no timer runs for them, so a pool nobody uses keeps its last sockets until destroyed.
//
// Waking a waiter from another thread. A waiter sleeps on a steady_timer, and Asio timers are not
// safe to share between threads: a cancel() racing the waiter's async_wait could be lost (the
// timer's "might have pending waits" flag is unsynchronised) and the waiter would sleep its full
// timeout. So waiters' timers live on `strand_`: the waiter checks `granted` and starts its wait
// in one handler on the strand, and release() sets `granted` under the mutex, then posts the
// cancel to the strand. The cancel runs either before that handler (which then sees `granted`
// and does not wait) or after the wait began (and ends it). A timer that fires while a grant is
// on its way is harmless too: the waiter reads `granted` under the mutex before giving up.
//
// The retry. A server may close an idle keep-alive connection at any moment (RFC 9112, 9.6), and
// the client learns it only when its next request finds EOF instead of a status line. When a
// reused connection yields not one response byte, the request never reached the application, so
// an idempotent one is sent again, once, on a new connection in the same slot. A timeout is not
// retried: the server may be working on it.
#include "server/proxy/upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace tiercache::server::proxy {

namespace beast = boost::beast;
namespace ssl = asio::ssl;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Upstreams set cookies and long cache headers; Beast's default of 8 KiB is a browser's request.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

bool idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
      return true;
    default:
      return false;
  }
}

error_code exchange_error(error_code ec) {
  if (ec == beast::error::timeout) return Errc::upstream_timeout;
  if (ec == http::error::body_limit) return Errc::upstream_body_too_large;
  return Errc::upstream_bad_response;
}

std::string copy_of(boost::core::string_view s) { return {s.data(), s.size()}; }

[[noreturn]] void bad_url(const std::string& url, const char* why) {
  throw std::invalid_argument("upstream URL '" + url + "': " + why);
}

}  // namespace

struct Upstream::Connection {
  Connection(const asio::any_io_executor& ex, ssl::context* context) {
    if (context != nullptr) {
      tls.emplace(ex, *context);
    } else {
      tcp.emplace(ex);
    }
  }
  beast::tcp_stream& tcp_layer() { return tls ? tls->next_layer() : *tcp; }

  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  // Kept with the connection: its capacity is reused by every response read on it.
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
};

struct Upstream::Waiter {
  Waiter(asio::strand<asio::any_io_executor> strand, Clock::time_point d)
      : timer(std::move(strand)), deadline(d) {}
  asio::steady_timer timer;  // strand_ only
  const Clock::time_point deadline;
  bool granted = false;              // guarded by mu_
  std::unique_ptr<Connection> conn;  // guarded by mu_; null with `granted`: a slot
};

Upstream::Upstream(asio::any_io_executor ex, UpstreamOptions options)
    : ex_(std::move(ex)), strand_(asio::make_strand(ex_)), options_(std::move(options)) {
  const std::string& url = options_.base_url;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) bad_url(url, "not an absolute URL (http://host[:port][/path])");
  base_ = *parsed;
  if (base_.scheme_id() == boost::urls::scheme::https) {
    tls_ = true;
  } else if (base_.scheme_id() != boost::urls::scheme::http) {
    bad_url(url, "the scheme must be http or https");
  }
  if (!base_.has_authority() || base_.encoded_host().empty()) bad_url(url, "no host");
  if (base_.has_userinfo()) bad_url(url, "user info is not supported");
  if (base_.has_query()) bad_url(url, "a base URL has no query");
  if (base_.has_fragment()) bad_url(url, "a base URL has no fragment");
  // The authority is host[:port] with a decimal port: checked on the text itself, as Boost.URL
  // 1.81 accepts "http://h:12ab/".
  {
    const std::string_view text = url;
    const auto from = text.find("://") + 3;
    const auto authority = text.substr(from, text.find_first_of("/?#", from) - from);
    const auto host_end = authority.front() == '[' ? authority.find(']') : 0;
    const auto colon = authority.find(':', host_end == std::string_view::npos ? 0 : host_end);
    if (colon != std::string_view::npos &&
        !std::all_of(authority.begin() + static_cast<std::ptrdiff_t>(colon) + 1, authority.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      bad_url(url, "the port must be 1-65535");
    }
  }
  if (base_.has_port()) {
    const std::string_view port = base_.port();
    const bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    const unsigned long value = digits ? std::stoul(std::string(port)) : 0;
    if (value == 0 || value > 65535) bad_url(url, "the port must be 1-65535");
    service_ = port;
  } else {
    service_ = tls_ ? "443" : "80";
  }
  if (options_.max_connections == 0) {
    throw std::invalid_argument("upstream " + url + ": max_connections must be at least 1");
  }
  host_ = base_.host_address();
  host_header_ = copy_of(base_.encoded_host());
  if (base_.has_port()) host_header_.append(":").append(service_);
  base_path_ = copy_of(base_.encoded_path());
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();

  if (tls_) {
    // A ca_file that does not load throws here: a TLS set-up that cannot work fails at start-up.
    ssl_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    ssl_->set_default_verify_paths();
    if (!options_.ca_file.empty()) ssl_->load_verify_file(options_.ca_file);
    ssl_->set_verify_mode(options_.verify_tls ? ssl::verify_peer : ssl::verify_none);
  }
}

Upstream::~Upstream() = default;

UpstreamStats Upstream::stats() const {
  UpstreamStats s;
  s.requests = requests_.load(std::memory_order_relaxed);
  s.connects = connects_.load(std::memory_order_relaxed);
  s.reuses = reuses_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.idle = idle_.size();
  s.open = open_;
  return s;
}

void Upstream::prepare(Request& req) const {
  const std::string_view target = req.target();
  if (!base_path_.empty() || target.empty() || target.front() != '/') {
    // Reused per thread: joining costs no allocation once warm (Beast copies it into the fields).
    thread_local std::string joined;
    joined.assign(base_path_);
    if (target.empty() || target.front() == '?') {
      if (joined.empty()) joined.push_back('/');
    } else if (target.front() != '/') {
      joined.push_back('/');
    }
    joined.append(target);
    req.target(joined);
  }
  req.version(11);
  req.set(http::field::host, host_header_);
  req.keep_alive(true);
  if (!req.has_content_length() && !req.chunked() &&
      (!req.body().empty() || req.method() == http::verb::post || req.method() == http::verb::put ||
       req.method() == http::verb::patch)) {
    req.prepare_payload();
  }
}

Upstream::Lease Upstream::try_acquire(std::unique_ptr<Connection>& conn) {
  std::vector<std::unique_ptr<Connection>> expired;  // closed after the lock is released
  std::lock_guard lock(mu_);
  if (closed_) return Lease::closed;
  if (!idle_.empty()) {
    if (Clock::now() - idle_.back()->idle_since < options_.idle_timeout) {
      conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease::idle;
    }
    // The newest is too old, so all are. No one waits while any are idle: no slot to hand on.
    expired.swap(idle_);
    open_ -= expired.size();
  }
  if (open_ < options_.max_connections) {
    ++open_;
    return Lease::slot;
  }
  return Lease::full;
}

asio::awaitable<Result<std::unique_ptr<Upstream::Connection>>> Upstream::wait_for_connection() {
  auto waiter = std::make_shared<Waiter>(strand_, Clock::now() + options_.timeout);
  std::unique_ptr<Connection> conn;
  Lease lease = try_acquire(conn);
  if (lease == Lease::closed) co_return make_error_code(Errc::upstream_closed);
  if (lease == Lease::full) {
    // Between the first look and here a connection may have come back: look again, and queue
    // in the same critical section, or a release in between would go unnoticed.
    std::lock_guard lock(mu_);
    if (closed_) co_return make_error_code(Errc::upstream_closed);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());  // just released: not expired
      idle_.pop_back();
      lease = Lease::idle;
    } else if (open_ < options_.max_connections) {
      ++open_;
      lease = Lease::slot;
    } else {
      waiters_.push_back(waiter);
    }
  }
  if (lease != Lease::full) co_return std::move(conn);

  co_await asio::co_spawn(strand_, park(waiter), asio::use_awaitable);
  bool granted = false;
  bool closed = false;
  {
    std::lock_guard lock(mu_);
    granted = waiter->granted;
    closed = closed_;
    if (granted) {
      conn = std::move(waiter->conn);
    } else {
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
    }
  }
  if (!granted) {
    co_return make_error_code(closed ? Errc::upstream_closed : Errc::upstream_saturated);
  }
  co_return std::move(conn);
}

asio::awaitable<void> Upstream::park(std::shared_ptr<Waiter> waiter) {
  bool granted = false;
  {
    std::lock_guard lock(mu_);
    granted = waiter->granted || closed_;
  }
  if (granted) co_return;
  // No suspension since the check: a cancel posted by release() or close() runs after this
  // wait began.
  waiter->timer.expires_at(waiter->deadline);
  co_await waiter->timer.async_wait(use_tuple);
}

void Upstream::release(std::unique_ptr<Connection> conn, bool reusable) {
  std::unique_ptr<Connection> doomed;
  std::shared_ptr<Waiter> wake;
  {
    std::lock_guard lock(mu_);
    if (!reusable || closed_) doomed = std::move(conn);
    if (!waiters_.empty()) {
      wake = std::move(waiters_.front());
      waiters_.pop_front();
      wake->granted = true;
      wake->conn = std::move(conn);
    } else if (conn && idle_.size() < options_.max_idle) {
      conn->idle_since = Clock::now();
      idle_.push_back(std::move(conn));
    } else {
      if (conn) doomed = std::move(conn);
      --open_;
    }
  }
  doomed.reset();  // closed before a waiter opens another in its slot
  if (wake) asio::post(strand_, [wake] { wake->timer.cancel(); });
}

void Upstream::close() {
  std::vector<std::unique_ptr<Connection>> idle;  // closed after the lock is released
  std::deque<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    idle.swap(idle_);
    open_ -= idle.size();
    waiters = waiters_;  // each leaves waiters_ itself as it wakes
    // A shutdown(2) ends the read or write in flight on the socket at once (EOF, EPIPE) and any
    // the awaiting thread starts after it; the connection stays registered, so open, until
    // leave() under this lock.
    for (Connection* c : in_flight_) {
      error_code ignored;
      c->tcp_layer().socket().shutdown(asio::socket_base::shutdown_both, ignored);
    }
  }
  for (auto& w : waiters) asio::post(strand_, [w] { w->timer.cancel(); });
}

bool Upstream::enter(Connection& conn) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  in_flight_.push_back(&conn);
  return true;
}

void Upstream::leave(Connection& conn) {
  std::lock_guard lock(mu_);
  std::erase(in_flight_, &conn);
}

bool Upstream::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

asio::awaitable<error_code> Upstream::connect(Connection& conn) {
  const auto deadline = Clock::now() + options_.connect_timeout;
  asio::ip::tcp::resolver resolver(ex_);
  auto [rec, endpoints] = co_await resolver.async_resolve(
      host_, service_, asio::ip::tcp::resolver::numeric_service, use_tuple);
  if (rec) co_return Errc::upstream_unreachable;
  beast::tcp_stream& tcp = conn.tcp_layer();
  tcp.expires_at(deadline);
  auto [cec, endpoint] = co_await tcp.async_connect(endpoints, use_tuple);
  if (cec) {
    co_return cec == beast::error::timeout ? Errc::upstream_timeout : Errc::upstream_unreachable;
  }
  error_code ignored;
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!conn.tls) {
    tcp.expires_never();
    co_return error_code{};
  }
  error_code not_ip;
  asio::ip::make_address(host_, not_ip);
  // SNI carries host names only (RFC 6066, section 3).
  if (not_ip) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(conn.tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host_.c_str()));
  }
  if (options_.verify_tls) conn.tls->set_verify_callback(ssl::host_name_verification(host_));
  auto [hec] = co_await conn.tls->async_handshake(ssl::stream_base::client, use_tuple);
  tcp.expires_never();
  if (hec == beast::error::timeout) co_return Errc::upstream_timeout;
  if (hec) {
    spdlog::warn("proxy: TLS handshake with {} failed: {}", options_.base_url, hec.message());
    co_return Errc::upstream_unreachable;
  }
  co_return error_code{};
}

asio::awaitable<Result<Response>> Upstream::send(Request req) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  prepare(req);
  std::unique_ptr<Connection> conn;
  bool reused = false;
  switch (try_acquire(conn)) {
    case Lease::idle:
      reused = true;
      break;
    case Lease::slot:
      break;
    case Lease::closed:
      failures_.fetch_add(1, std::memory_order_relaxed);
      co_return make_error_code(Errc::upstream_closed);
    case Lease::full: {
      auto waited = co_await wait_for_connection();
      if (!waited) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        co_return waited.error();
      }
      conn = std::move(*waited);
      reused = conn != nullptr;
      break;
    }
  }

  for (;;) {
    if (reused) {
      reuses_.fetch_add(1, std::memory_order_relaxed);
    } else {
      error_code ec = Errc::upstream_closed;
      if (!closed()) {
        connects_.fetch_add(1, std::memory_order_relaxed);
        conn = std::make_unique<Connection>(ex_, ssl_.get());
        ec = co_await connect(*conn);
        if (!ec && closed()) ec = Errc::upstream_closed;
      }
      if (ec) {
        conn.reset();
        release(nullptr, false);
        failures_.fetch_add(1, std::memory_order_relaxed);
        co_return ec;
      }
    }
    if (!enter(*conn)) {
      conn.reset();
      release(nullptr, false);
      failures_.fetch_add(1, std::memory_order_relaxed);
      co_return make_error_code(Errc::upstream_closed);
    }

    http::response_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(std::uint64_t{options_.max_body_bytes});
    if (req.method() == http::verb::head) parser.skip(true);
    beast::tcp_stream& tcp = conn->tcp_layer();
    tcp.expires_after(options_.timeout);  // one deadline for the write and the whole read
    error_code ec;
    if (conn->tls) {
      std::tie(ec, std::ignore) = co_await http::async_write(*conn->tls, req, use_tuple);
      if (!ec) {
        std::tie(ec, std::ignore) =
            co_await http::async_read(*conn->tls, conn->buffer, parser, use_tuple);
      }
      // A body delimited by the end of the stream, from a server that skips close_notify.
      if (ec == ssl::error::stream_truncated && parser.is_header_done() && parser.need_eof()) {
        ec = {};
        parser.put_eof(ec);
      }
    } else {
      std::tie(ec, std::ignore) = co_await http::async_write(*conn->tcp, req, use_tuple);
      if (!ec) {
        std::tie(ec, std::ignore) =
            co_await http::async_read(*conn->tcp, conn->buffer, parser, use_tuple);
      }
    }
    tcp.expires_never();
    leave(*conn);

    if (!ec) {
      // Bytes beyond the response would be read as the start of the next one.
      const bool keep = parser.keep_alive() && conn->buffer.size() == 0;
      Response res = parser.release();
      release(std::move(conn), keep);
      co_return res;
    }
    const bool nothing_back = !parser.got_some() && conn->buffer.size() == 0;
    conn.reset();
    if (closed()) {
      release(nullptr, false);
      failures_.fetch_add(1, std::memory_order_relaxed);
      co_return make_error_code(Errc::upstream_closed);
    }
    if (reused && nothing_back && idempotent(req.method()) && ec != beast::error::timeout) {
      // The server closed the idle connection: a new one, in the same slot.
      reused = false;
      retries_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    release(nullptr, false);
    failures_.fetch_add(1, std::memory_order_relaxed);
    co_return exchange_error(ec);
  }
}

}  // namespace tiercache::server::proxy
