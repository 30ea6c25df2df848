#pragma once
// RedisServer: a private redis-server for one test, started from PATH on a free port (or a unix
// socket) in its own temp dir, persistence off. Waits until it answers PING; ends it by pid.
// Use: RedisServer server;                        // plain, TCP, free port
//      RedisServer tls(RedisServer::Options{.tls = true});
//      redis::Config cfg = server.config();        // ready for redis::Client
// Fault tools: stop(), restart() (same port, same options), pause()/resume() (SIGSTOP/SIGCONT).
// Failures to start throw std::runtime_error carrying the server's log, which fails the test.
// Thread-safety: not thread-safe; owned by one test. A server started from the main thread also
// dies with the test process (PR_SET_PDEATHSIG), so a crashed test leaves no redis-server behind.

#include "tiercache/redis/config.hpp"

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tiercache::test {

// An ACL user to create at start: `user <name> on ><password> <rules...>` in redis.conf.
struct AclUser {
  std::string name{};
  std::string password{};
  std::string rules = "~* &* +@all";
};

class RedisServer {
 public:
  // unix_socket wins over tls: Redis serves its socket in plain text.
  struct Options {
    bool unix_socket = false;          // listen on a socket in the temp dir instead of TCP
    std::string requirepass{};         // the default user's password
    std::vector<AclUser> users{};      // extra ACL users
    bool tls = false;                  // TLS only (port 0 for plain); certificates made by openssl
    bool tls_client_auth = false;      // the server asks for a client certificate (implies tls)
    std::vector<std::string> extra{};  // more "directive value" lines for redis.conf
  };

  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();  // stops the server (by pid) and removes the temp dir

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // A Config that reaches this server: host/port or unix socket, password, TLS files (the test
  // CA, server name "localhost", and the client certificate when tls_client_auth).
  redis::Config config() const;
  // config() logged in as one of Options::users. REQUIRES: `user` is in Options::users.
  redis::Config config_as(const std::string& user) const;
  // The URL form of config(), for code that reads URLs: redis://[:pw@]127.0.0.1:port,
  // rediss://...?ca_file=..&server_name=localhost[&cert_file=..&key_file=..],
  // unix://[:pw@]/dir/redis.sock. Components are percent-encoded.
  std::string url() const;

  std::uint16_t port() const { return port_; }  // 0 for a unix-socket server
  const std::filesystem::path& unix_socket_path() const { return socket_path_; }
  const std::filesystem::path& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }

  // Ends the process (SIGKILL by default: a crash; SIGTERM for a clean shutdown) and reaps it,
  // escalating to SIGKILL after 5 s. A paused server is resumed first unless sig is SIGKILL.
  // REQUIRES: sig terminates the process. No-op when not running.
  void stop(int sig = SIGKILL);
  // Starts again on the same port or socket with the same options (stopping it first with
  // SIGKILL if it runs); waits until the port is bindable, then for PING. Throws on failure.
  void restart();
  void pause();   // SIGSTOP; returns once the process is stopped
  void resume();  // SIGCONT; returns once the process runs again

  // Runs redis-cli with this server's connection flags (-h/-p or -s, -a, --tls --cacert ...
  // --cert/--key) followed by `args`, and returns its stdout and stderr, trimmed. Leading
  // options in `args` still reach redis-cli (e.g. {"--user", "u", "--pass", "p", "PING"}).
  // Throws if redis-cli does not finish within 5 s (a paused server).
  std::string cli(const std::vector<std::string>& args) const;
  // How many times the server ran `command` (as INFO commandstats names it: "get",
  // "client|caching") since it started or since CONFIG RESETSTAT; 0 if never.
  std::uint64_t calls(const std::string& command) const;

  // The server's log so far (logfile plus anything written to stdout/stderr).
  std::string log() const;

  // Files the TLS set-up made: CA, server and client certificates and keys, and a second CA
  // that signed nothing this server trusts (for "untrusted certificate" tests), with a
  // certificate for CN=localhost signed by it (usable as a server or client certificate).
  struct TlsFiles {
    std::filesystem::path ca_cert{}, server_cert{}, server_key{}, client_cert{}, client_key{},
        untrusted_ca_cert{}, untrusted_cert{}, untrusted_key{};
  };
  // Empty unless Options::tls or tls_client_auth.
  const TlsFiles& tls_files() const { return tls_files_; }
  // The per-process certificates, made by openssl on first use and removed at exit.
  static const TlsFiles& test_tls_files();

 private:
  enum class StartResult { ready, address_in_use };

  void write_config() const;
  void spawn();
  StartResult wait_until_ready(std::chrono::milliseconds timeout);
  void start(bool keep_port);
  std::string log_since_spawn() const;
  bool tls() const { return !options_.unix_socket && (options_.tls || options_.tls_client_auth); }

  Options options_;
  std::filesystem::path dir_;
  std::filesystem::path socket_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
  std::uintmax_t log_offset_ = 0;  // log sizes when the current process was spawned
  std::uintmax_t stderr_offset_ = 0;
  TlsFiles tls_files_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
std::uint16_t free_port();

}  // namespace tiercache::test
