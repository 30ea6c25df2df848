#pragma once
// RedisServer: a private redis-server for one test, started from PATH on a free port (or a unix
// socket) in its own temp dir, persistence off. Waits until it answers PING; ends it by pid.
// Use: RedisServer server;                        // plain, TCP, free port
//      RedisServer tls(RedisServer::Options{.tls = true});
//      redis::Config cfg = server.config();        // ready for redis::Client
// Fault tools: stop(), restart() (same port, same options), pause()/resume() (SIGSTOP/SIGCONT).
// Thread-safety: not thread-safe; owned by one test.

#include "tiercache/redis/config.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tiercache::test {

// An ACL user to create at start: `ACL SETUSER <name> on ><password> <rules...>`.
struct AclUser {
  std::string name;
  std::string password;
  std::string rules = "~* &* +@all";
};

class RedisServer {
 public:
  struct Options {
    bool unix_socket = false;        // listen on a socket in the temp dir instead of TCP
    std::string requirepass;         // the default user's password
    std::vector<AclUser> users;      // extra ACL users
    bool tls = false;                // TLS only (port 0 for plain); certificates made by openssl
    bool tls_client_auth = false;    // the server asks for a client certificate
    std::vector<std::string> extra;  // more "directive value" lines for redis.conf
  };

  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();  // stops the server (by pid) and removes the temp dir

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // A Config that reaches this server: host/port or unix socket, password, TLS files (the test
  // CA, and the client certificate when tls_client_auth).
  redis::Config config() const;
  // The URL form of config(), for code that reads URLs.
  std::string url() const;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& unix_socket_path() const { return socket_path_; }
  const std::filesystem::path& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Ends the process (SIGKILL by default: a crash; SIGTERM for a clean shutdown) and reaps it.
  void stop(int signal = 9);
  // Starts again on the same port or socket with the same options; waits for PING.
  void restart();
  void pause();   // SIGSTOP
  void resume();  // SIGCONT

  // Runs one command through redis-cli and returns its raw output (for set-up and checks that
  // must not depend on the client under test).
  std::string cli(const std::vector<std::string>& args) const;

  // Files the TLS set-up made: CA, server and client certificates and keys, and a second CA
  // that signed nothing this server trusts (for "untrusted certificate" tests).
  struct TlsFiles {
    std::filesystem::path ca_cert, server_cert, server_key, client_cert, client_key,
        untrusted_ca_cert;
  };
  const TlsFiles& tls_files() const { return tls_files_; }

 private:
  void write_config() const;
  void spawn();
  void wait_until_ready(std::chrono::milliseconds timeout);

  Options options_;
  std::filesystem::path dir_;
  std::filesystem::path socket_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  TlsFiles tls_files_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
std::uint16_t free_port();

}  // namespace tiercache::test
