#pragma once
// redis::Config: where a Redis server is and how to talk to it. An aggregate with safe defaults;
// most users write it from a URL: auto cfg = redis::parse_url("rediss://user:pw@host:6380/2");
// Use: redis::Client client(ex, redis::Config{.host = "10.0.0.5", .request_timeout = 200ms});

#include "tiercache/resp/reader.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace tiercache::redis {

struct TlsConfig {
  // Connect with TLS (rediss://). Default: off.
  bool enabled = false;
  // PEM file of the CAs that may sign the server's certificate. Default: the system's store.
  std::string ca_file;
  // Client certificate and key (PEM) for servers that ask for one (tls-auth-clients yes).
  std::string cert_file;
  std::string key_file;
  // Server name for SNI and certificate verification. Default: the host.
  std::string server_name;
  // Verify the server's certificate and name. Default: on. Turning it off invites a man in the
  // middle.
  bool verify_peer = true;
};

struct Config {
  // Server address. Default: 127.0.0.1:6379. A non-empty unix_socket wins over host and port.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string unix_socket;
  TlsConfig tls;

  // AUTH: a password alone (requirepass) or an ACL user and password. Default: none.
  std::string username;
  std::string password;
  // SELECT this database after connecting. Default: 0.
  int database = 0;
  // CLIENT SETNAME, shown in CLIENT LIST. Default: "tiercache".
  std::string client_name = "tiercache";
  // RESP version to ask for: 3 sends HELLO 3 and falls back to RESP2 on a server without HELLO
  // (such a link cannot carry client-side caching); 2 never sends HELLO.
  int protocol = 3;
  // Send CLIENT TRACKING ON (default mode) after the handshake of every RESP3 link, so Redis
  // pushes `invalidate` messages in band for the keys each link read (server-assisted
  // client-side caching; cache::Cache relies on it for L1 coherence). A RESP2 link never
  // tracks: it has no push messages in band. Default: off. Costs Redis memory for its
  // tracking table (bounded by tracking-table-max-keys).
  bool client_tracking = false;
  // With client_tracking: CLIENT TRACKING ON OPTIN instead, so Redis tracks only what a command
  // sent right after CLIENT CACHING YES reads. For a client whose reads are mostly not cached
  // locally, such as a cache::Cache with L1 off (it caches versions alone): Redis then neither
  // records every key read (a tracked GET cost Redis 20-45% more CPU in cache_bench) nor pushes
  // invalidations for them. One server only: ClusterClient refuses it, since a cluster would
  // route the keyless CLIENT CACHING apart from the read. Default: off.
  bool tracking_optin = false;

  // Connecting, TLS and handshake together. Default: 2 s.
  std::chrono::milliseconds connect_timeout{2000};
  // Longest wait for a reply, from the call until its reply. Default: 1 s.
  std::chrono::milliseconds request_timeout{1000};
  // A link whose oldest unanswered request has waited this long is considered dead and rebuilt,
  // even though each request already timed out. Default: 5 s; 0 disables.
  std::chrono::milliseconds link_timeout{5000};
  // Reconnect backoff: full-jitter exponential between these. Default: 50 ms to 2 s.
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{2000};

  // Pipelined links a Client spreads work over. Default: 1; more helps when one link's
  // reading and writing saturate a core.
  std::size_t connections = 1;
  // Requests waiting or in flight on one link before new ones fail with queue_full.
  // Default: 65536. Bounds memory when Redis is slow.
  std::size_t max_pending = 65536;
  // Resend idempotent requests (RequestFlags::idempotent) once after a link drop. Default: off.
  bool retry_idempotent = false;

  resp::ReaderLimits reader_limits;

  // "host:port", "unix:/path" or "tls host:port", for logs.
  std::string describe() const;
};

}  // namespace tiercache::redis
