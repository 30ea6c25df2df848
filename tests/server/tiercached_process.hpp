#pragma once
// TiercachedProcess: the built tiercached as its own process, as an operator runs it, on a
// redis-server of its own: a config file in a temp dir, a free loopback port, up once /healthz
// answers; SIGTERM (then SIGKILL) at destruction. For suites that drive the real binary.
// Use: TiercachedProcess d("cli", "[server]\naccess_log = \"off\"\n");  HttpClient c(d.port());
//      TiercachedProcess d("breaker", config, redis.url() + "?request_timeout=5s");  // your Redis

#include "tests/server/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace tiercache::test {

class TiercachedProcess {
 public:
  // `name` tells temp dirs apart; `config` is the TOML file's text; `redis_url`, when given, is
  // the daemon's --redis (a server the test controls, with URL options), else it gets a
  // redis-server of its own. Throws when the daemon does not answer within 30 s (its log is
  // named in the message).
  TiercachedProcess(const std::string& name, const std::string& config,
                    std::string redis_url = {}) {
    if (redis_url.empty()) redis_url = own_redis_.emplace().url();
    dir_ = std::filesystem::temp_directory_path() /
           ("tiercache_" + name + "_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    const auto file = dir_ / "tiercached.toml";
    std::ofstream(file) << config;
    pid_ = spawn_process(
        {tiercached_binary().string(), "--config", file.string(), "--listen",
         "127.0.0.1:" + std::to_string(port_), "--redis", redis_url, "--threads", "2"},
        log_path(), true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        HttpClient c(port_, std::chrono::seconds(2));
        if (c.request(http::verb::get, "/healthz").result() == http::status::ok) return;
      } catch (const boost::system::system_error&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("tiercached did not come up; see " + log_path().string());
  }
  ~TiercachedProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (!reap(pid_, std::chrono::seconds(20))) {
        ::kill(pid_, SIGKILL);
        reap(pid_, std::chrono::seconds(5));
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TiercachedProcess(const TiercachedProcess&) = delete;
  TiercachedProcess& operator=(const TiercachedProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // REQUIRES: the process has a redis-server of its own (no redis_url given).
  RedisServer& redis() { return *own_redis_; }
  std::string redis_url() const { return own_redis_->url(); }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path log_path() const { return dir_ / "tiercached.log"; }
  std::string log() const {
    std::ifstream in(log_path());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::optional<RedisServer> own_redis_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tiercache::test
