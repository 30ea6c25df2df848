#pragma once
// PrivateRedis: a benchmark's own redis-server, started from PATH in a fresh temp dir with
// persistence off, on a free loopback port (or a unix socket in that dir); waits until it answers
// PING; stopped by its pid (SIGTERM, SIGKILL after 5 s) and the dir removed. It also dies with
// the benchmark (PR_SET_PDEATHSIG), so a crashed run leaves no server behind.
// Use: bench::PrivateRedis server;   redis::Config cfg = server.config();
// Thread-safety: not thread-safe; construct it from main before starting threads (it forks).

#include "tiercache/redis/config.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::bench {

class PrivateRedis {
 public:
  struct Options {
    bool unix_socket = false;             // listen on <dir>/redis.sock instead of TCP
    std::vector<std::string> extra = {};  // more "--directive value" arguments
  };

  PrivateRedis() : PrivateRedis(Options{}) {}
  // Exits the program with the server's log on stderr when no server answers after 5 attempts
  // (a port taken between our probe and redis-server's bind is retried with a new one).
  explicit PrivateRedis(Options options) : options_(std::move(options)) {
    make_dir();
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (!options_.unix_socket) port_ = free_port();
      spawn();
      if (wait_until_ready()) return;
      stop();
    }
    std::fprintf(stderr, "redis-server did not start (%s); its log:\n%s\n", describe().c_str(),
                 log().c_str());
    remove_dir();
    std::exit(1);
  }
  ~PrivateRedis() {
    stop();
    remove_dir();
  }
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  // 0 for a unix-socket server.
  std::uint16_t port() const { return port_; }
  // Empty for a TCP server.
  std::string unix_socket() const { return options_.unix_socket ? socket_path() : std::string(); }
  pid_t pid() const { return pid_; }
  // A Config that reaches this server (other fields at their defaults).
  redis::Config config() const {
    redis::Config cfg;
    if (options_.unix_socket) {
      cfg.unix_socket = socket_path();
    } else {
      cfg.port = port_;
    }
    return cfg;
  }
  std::string describe() const {
    return options_.unix_socket ? "unix:" + socket_path() : "127.0.0.1:" + std::to_string(port_);
  }

  // A TCP port on 127.0.0.1 that was free a moment ago.
  static std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

 private:
  std::string socket_path() const { return (dir_ / "redis.sock").string(); }

  void make_dir() {
    // Unix socket paths must fit in 108 bytes: a long TMPDIR falls back to /tmp.
    const char* tmpdir = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    std::string base =
        tmpdir != nullptr && *tmpdir != '\0' && std::strlen(tmpdir) < 60 ? tmpdir : "/tmp";
    std::string pattern = base + "/tiercache-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "mkdtemp(%s) failed: %s\n", pattern.c_str(), std::strerror(errno));
      std::exit(1);
    }
    dir_ = pattern;
  }

  void remove_dir() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  void spawn() {
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<std::string> args = {"redis-server", "--dir",     dir_.string(),
                                     "--save",       "",          "--appendonly",
                                     "no",           "--logfile", (dir_ / "redis.log").string(),
                                     "--daemonize",  "no"};
    if (options_.unix_socket) {
      args.insert(args.end(), {"--port", "0", "--unixsocket", socket_path()});
    } else {
      args.insert(args.end(), {"--port", std::to_string(port_), "--bind", "127.0.0.1"});
    }
    args.insert(args.end(), options_.extra.begin(), options_.extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out = (dir_ / "redis.out").string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      std::fprintf(stderr, "fork failed: %s\n", std::strerror(errno));
      std::exit(1);
    }
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
      const int null = ::open("/dev/null", O_RDONLY);
      const int log = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(null, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
  }

  bool answers_ping() const {
    const timeval tv{0, 200'000};
    redisContext* c = options_.unix_socket ? redisConnectUnixWithTimeout(socket_path().c_str(), tv)
                                           : redisConnectWithTimeout("127.0.0.1", port_, tv);
    bool ok = false;
    if (c != nullptr && c->err == 0) {
      auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
      if (reply != nullptr) freeReplyObject(reply);
    }
    if (c != nullptr) redisFree(c);
    return ok;
  }

  // PING every 10 ms for up to 5 s; false as soon as the server has exited (port taken).
  bool wait_until_ready() {
    for (int i = 0; i < 500; ++i) {
      if (answers_ping()) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string log() const {
    std::ostringstream text;
    for (const char* name : {"redis.out", "redis.log"}) {
      std::ifstream in(dir_ / name);
      text << in.rdbuf();
    }
    return text.str();
  }

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tiercache::bench
