#pragma once
// The CLI tests' daemon: one tiercached with its own redis-server, started once per test
// executable (starting them is most of the time), and `tiercache` run in process against it.
// Use: class MyTest : public CliTest {}; TEST_F(MyTest, X) { auto r = cli({"get", "users", "k"}); }

#include "cli/run.hpp"
#include "tests/server/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace tiercache::test {

namespace json = boost::json;

inline constexpr const char* kToken = "cli-test-admin-token-0123456789";

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

// One tiercached (with its redis-server) for the whole suite: starting them is most of the time.
class Daemon {
 public:
  Daemon() {
    dir_ = std::filesystem::temp_directory_path() /
           ("tiercache_cli_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    const auto config = dir_ / "tiercached.toml";
    std::ofstream(config) << "[server]\n"
                          << "admin_token = \"" << kToken << "\"\n"
                          << "access_log = \"off\"\n\n"
                          << "[namespaces.default]\n\n"
                          << "[namespaces.users]\n"
                          << "default_ttl = \"10m\"\n\n"
                          << "[ratelimits.search]\n"
                          << "limit = 2\n"
                          << "window = \"1h\"\n";
    pid_ = spawn_process(
        {tiercached_binary().string(), "--config", config.string(), "--listen",
         "127.0.0.1:" + std::to_string(port_), "--redis", redis_.url(), "--threads", "2"},
        dir_ / "tiercached.log", true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        HttpClient c(port_, std::chrono::seconds(2));
        if (c.request(http::verb::get, "/healthz").result() == http::status::ok) return;
      } catch (const boost::system::system_error&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("tiercached did not come up; see " +
                             (dir_ / "tiercached.log").string());
  }
  ~Daemon() {
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
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Its Redis, for --redis: the daemon's namespaces are the library's, on the same server.
  std::string redis_url() const { return redis_.url(); }
  RedisServer& redis() { return redis_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  RedisServer redis_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { daemon_ = std::make_unique<Daemon>(); }
  static void TearDownTestSuite() { daemon_.reset(); }

  // tiercache --server <daemon> <args...>, stdin from `input`.
  static Outcome cli(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"--server", daemon_->url()});
    return cli_raw(std::move(args), input);
  }
  static Outcome cli_raw(std::vector<std::string> args, const std::string& input = {}) {
    std::istringstream in(input);
    std::ostringstream out, err;
    Outcome o;
    o.code = cli::run(std::move(args), in, out, err);
    o.out = out.str();
    o.err = err.str();
    return o;
  }
  static json::object parse(const std::string& text) { return json::parse(text).as_object(); }

  static std::unique_ptr<Daemon> daemon_;
};

inline std::unique_ptr<Daemon> CliTest::daemon_;

}  // namespace tiercache::test
