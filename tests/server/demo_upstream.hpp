#pragma once
// DemoUpstream: examples/demo_upstream.cpp as a child process, the upstream of the proxy tests:
// started on a free port of 127.0.0.1 (its first line says which), its counters read and its
// mode set over HTTP, stopped by SIGTERM to its own pid (the "upstream down" fault) and reaped.
// Use: DemoUpstream up(50ms); route.upstream = up.url("/weather"); ... up.requests("/weather");
// Thread-safety: not thread-safe; one per test.

#include "tests/server/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/process.hpp"

#include <boost/json/value.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

namespace tiercache::test {

class DemoUpstream {
 public:
  explicit DemoUpstream(std::chrono::milliseconds delay = std::chrono::milliseconds(50)) {
    static int started = 0;
    log_ = std::filesystem::temp_directory_path() / ("demo_upstream_" + std::to_string(::getpid()) +
                                                     "_" + std::to_string(++started) + ".log");
    std::filesystem::remove(log_);
    pid_ = spawn_process({demo_upstream_binary().string(), "--listen", "127.0.0.1:0", "--delay-ms",
                          std::to_string(delay.count())},
                         log_, false);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const std::string marker = "listening on 127.0.0.1:";
    while (port_ == 0) {
      std::ifstream in(log_);
      std::string line;
      if (std::getline(in, line) && line.starts_with(marker) && in) {
        port_ = static_cast<std::uint16_t>(std::stoi(line.substr(marker.size())));
      } else if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw std::runtime_error("demo_upstream did not start: " + output());
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  ~DemoUpstream() {
    stop();
    std::error_code ec;
    std::filesystem::remove(log_, ec);
  }
  DemoUpstream(const DemoUpstream&) = delete;
  DemoUpstream& operator=(const DemoUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // How many requests `path` has had (control paths are not counted).
  std::int64_t requests(const std::string& path) {
    auto stats = HttpClient::json(client().request(http::verb::get, "/_demo/stats"));
    const auto* n = stats.as_object().at("by_path").as_object().if_contains(path);
    return n == nullptr ? 0 : n->to_number<std::int64_t>();
  }
  // Every request answers `status` from now on (0: normal again).
  void set_status(unsigned status) {
    client().request(http::verb::post, "/_demo/mode?status=" + std::to_string(status));
  }
  void set_delay(std::chrono::milliseconds delay) {
    client().request(http::verb::post, "/_demo/mode?delay_ms=" + std::to_string(delay.count()));
  }

  // SIGTERM, then reaped; idempotent.
  void stop() {
    client_.reset();
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap(pid_, std::chrono::seconds(10))) {
      ::kill(pid_, SIGKILL);
      (void)reap(pid_, std::chrono::seconds(10));
    }
    pid_ = -1;
  }

  std::string output() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  HttpClient& client() {
    if (!client_) client_ = std::make_unique<HttpClient>(port_);
    return *client_;
  }

  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace tiercache::test
