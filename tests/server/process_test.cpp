// tiercached as a process: SIGTERM stops it cleanly (exit 0), a bad config file stops it at start
// with the field and line, --version and --help answer. Skipped when the binary is not built.

#include "tests/support/process.hpp"

#include "tests/server/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tiercache::test {
namespace {

const std::filesystem::path kBinary = tiercached_binary();

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kBinary)) GTEST_SKIP() << kBinary << " is not built";
    dir_ =
        std::filesystem::temp_directory_path() / ("tiercached_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

TEST_F(ProcessTest, SigtermStopsItCleanly) {
  RedisServer redis;
  const auto port = free_port();
  const auto log = dir_ / "out.log";
  const pid_t pid =
      spawn_process({kBinary.string(), "--listen", "127.0.0.1:" + std::to_string(port), "--redis",
                     redis.url(), "--threads", "2"},
                    log, true);
  bool up = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!up && std::chrono::steady_clock::now() < deadline) {
    try {
      HttpClient c(port, std::chrono::seconds(2));
      up = c.request(http::verb::get, "/healthz").result() == http::status::ok;
    } catch (const boost::system::system_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_TRUE(up) << "tiercached did not come up";
  HttpClient c(port);
  ASSERT_EQ(c.request(http::verb::put, "/v1/cache/default/k", "v").result(),
            http::status::not_found);  // no namespace is configured without a file
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_TRUE(reap(pid, std::chrono::seconds(20), &status));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(log);
  const std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(out.find("tiercached stopped"), std::string::npos) << out;
}

TEST_F(ProcessTest, BadConfigFileStopsItWithFieldAndLine) {
  const auto file = dir_ / "bad.toml";
  std::ofstream(file)
      << "[server]\nlisten = \"127.0.0.1:0\"\n\n[limits]\nidle_timeout = \"soon\"\n";
  const auto r =
      run_process({kBinary.string(), "--config", file.string()}, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.toml:5:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("limits.idle_timeout"), std::string::npos) << r.output;
}

TEST_F(ProcessTest, VersionAndHelp) {
  const auto v = run_process({kBinary.string(), "--version"}, std::chrono::seconds(20));
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.output.find("tiercached 0."), std::string::npos) << v.output;
  const auto h = run_process({kBinary.string(), "--help"}, std::chrono::seconds(20));
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("--redis"), std::string::npos) << h.output;
}

}  // namespace
}  // namespace tiercache::test
