#pragma once
// Upstream: the caching proxy's HTTP/1.1 client for one upstream base URL (http or https), with a
// pool of keep-alive connections. Joins each request's target onto the base path, bounds every
// request by timeouts and the response body by a size, and retries once on a fresh connection
// when a pooled one turns out to have been closed by the server.
// Use: Upstream up(ex, {.base_url = "http://127.0.0.1:8081/api"});
//      Result<Response> r = co_await up.send(Request{http::verb::get, "/forecast?city=paris", 11});
// Thread-safety: safe from any thread (the pool under a mutex; a connection serves one request at
// a time).

#include "tiercache/base/result.hpp"
#include "tiercache/base/thread_annotations.hpp"

#include "server/http_types.hpp"
#include "server/proxy/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>
#include <boost/url/url.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace tiercache::server::proxy {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct UpstreamOptions {
  // "http://host[:port][/base/path]" or "https://host[:port][/base]"; no query or fragment.
  // Required.
  std::string base_url;
  // Idle keep-alive connections kept for reuse; more are closed as they come back.
  // Default: 32. Each costs a socket (and a TLS session) on both ends.
  std::size_t max_idle = 32;
  // Open connections at most (in use + idle + connecting); callers beyond wait for one, up to
  // `timeout`, then fail with upstream_saturated. Default: 256.
  std::size_t max_connections = 256;
  // Resolve + connect + TLS handshake of a new connection. Default: 2 s. Asio cannot abandon a
  // getaddrinfo in flight: a hung resolver is bounded by its own timeout, not this one.
  std::chrono::milliseconds connect_timeout = 2s;
  // One whole request on its connection: write, read status, headers and body. Also bounds the
  // wait for a connection when max_connections are in use. Default: 10 s.
  std::chrono::milliseconds timeout = 10s;
  // An idle pooled connection older than this is closed, not reused (lazily, when the pool is
  // next used). Keep it below the upstream's own keep-alive timeout. Default: 30 s.
  std::chrono::milliseconds idle_timeout = 30s;
  // A larger response body fails with upstream_body_too_large. Default: 8 MiB.
  std::size_t max_body_bytes = 8 << 20;
  // https: a PEM file of trust anchors added to the system store (tests: a self-signed
  // certificate). Default: empty, the system store only.
  std::string ca_file{};
  // https: verify the peer's certificate chain and host name. SNI is sent either way (for host
  // names; RFC 6066 forbids it for IP literals). Default: true.
  bool verify_tls = true;
};

struct UpstreamStats {
  std::uint64_t requests = 0;  // send() calls
  std::uint64_t connects = 0;  // new connections attempted
  std::uint64_t reuses = 0;    // requests sent on a pooled connection
  std::uint64_t retries = 0;   // requests retried on a fresh connection
  std::uint64_t failures = 0;  // send() calls that completed with an error
  std::size_t idle = 0;        // pooled connections now
  std::size_t open = 0;        // open connections now (in use + idle + connecting)
};

class Upstream {
 public:
  // Throws std::invalid_argument (the message names the problem) for a bad base_url (not http or
  // https, no host, a query or fragment, a bad port) or max_connections == 0, and
  // boost::system::system_error for a ca_file that does not load.
  Upstream(asio::any_io_executor ex, UpstreamOptions options);
  // Closes the idle connections. REQUIRES: no send() in flight.
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Sends `req` to the upstream. req.target() is an origin-form path and query relative to the
  // base path: "/forecast?city=paris" on "http://h:1/api" goes out as "/api/forecast?city=paris".
  // Sets Host (host[:port]), HTTP/1.1 and keep-alive; other headers go as given, and a body
  // without Content-Length gets one. Reuses an idle pooled connection when there is one; when a
  // reused connection fails before any response byte arrives (the server closed an idle link) and
  // the method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS), retries once on a new connection.
  // A response that allows keep-alive and was read whole returns its connection to the pool.
  // Completes with: the response, whatever its status (a 404 or 503 is a response), or
  // upstream_unreachable, upstream_timeout, upstream_bad_response, upstream_body_too_large,
  // upstream_saturated, upstream_closed (after close()).
  // Cancellation: none; bounded by connect_timeout and timeout, and ended by close().
  // Lifetimes: the Upstream outlives the call.
  [[nodiscard]] asio::awaitable<Result<Response>> send(Request req);

  // Shutdown: closes the idle connections, and ends every send() in flight or waiting for a
  // connection, and every later one, with upstream_closed at once (a refresh still running
  // must not hold the daemon's shutdown for its timeout). A connection still being opened is
  // bounded by connect_timeout. Idempotent.
  void close();

  UpstreamStats stats() const;
  // The parsed base_url.
  const boost::urls::url& base() const { return base_; }

 private:
  struct Connection;
  struct Waiter;
  enum class Lease { idle, slot, full, closed };

  // Takes an idle connection (into `conn`) or a slot for a new one, or says the pool is full.
  Lease try_acquire(std::unique_ptr<Connection>& conn);
  // Waits up to `timeout` for a connection or slot handed over by release().
  [[nodiscard]] asio::awaitable<Result<std::unique_ptr<Connection>>> wait_for_connection();
  [[nodiscard]] asio::awaitable<void> park(std::shared_ptr<Waiter> waiter);
  // Gives back a connection (pooled when `reusable`) or, when `conn` is null, its slot.
  void release(std::unique_ptr<Connection> conn, bool reusable);
  // A connection carrying a request, known to close(); false (nothing registered) once closed.
  bool enter(Connection& conn);
  void leave(Connection& conn);
  bool closed() const;
  [[nodiscard]] asio::awaitable<error_code> connect(Connection& conn);
  void prepare(Request& req) const;

  asio::any_io_executor ex_;
  // Waiters' timers live here, so a wake-up posted by release() never races their async_wait.
  asio::strand<asio::any_io_executor> strand_;
  const UpstreamOptions options_;
  boost::urls::url base_;
  bool tls_ = false;
  std::string host_;         // for the resolver and SNI (no brackets)
  std::string service_;      // the port, as the resolver wants it
  std::string host_header_;  // host[:port] as in the URL
  std::string base_path_;    // the base path without its trailing '/'; may be empty
  std::unique_ptr<asio::ssl::context> ssl_;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ TIERCACHE_GUARDED_BY(mu_);  // newest last
  std::size_t open_ TIERCACHE_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_ TIERCACHE_GUARDED_BY(mu_);  // oldest first
  // Connections between their request's write and the end of its response: close() shuts
  // their sockets down (a system call, safe beside the thread that awaits them).
  std::vector<Connection*> in_flight_ TIERCACHE_GUARDED_BY(mu_);
  bool closed_ TIERCACHE_GUARDED_BY(mu_) = false;

  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> reuses_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace tiercache::server::proxy
