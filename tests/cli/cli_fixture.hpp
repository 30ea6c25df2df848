#pragma once
// The CLI tests' daemon: one tiercached with its own redis-server, started once per test
// executable (starting them is most of the time), and `tiercache` run in process against it.
// Use: class MyTest : public CliTest {}; TEST_F(MyTest, X) { auto r = cli({"get", "users", "k"}); }

#include "cli/run.hpp"
#include "tests/server/http_client.hpp"
#include "tests/server/tiercached_process.hpp"
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
inline std::unique_ptr<TiercachedProcess> start_daemon() {
  return std::make_unique<TiercachedProcess>("cli", std::string("[server]\n") + "admin_token = \"" +
                                                        kToken + "\"\n" +
                                                        "access_log = \"off\"\n\n"
                                                        "[namespaces.default]\n\n"
                                                        "[namespaces.users]\n"
                                                        "default_ttl = \"10m\"\n\n"
                                                        "[ratelimits.search]\n"
                                                        "limit = 2\n"
                                                        "window = \"1h\"\n");
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { daemon_ = start_daemon(); }
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

  static std::unique_ptr<TiercachedProcess> daemon_;
};

inline std::unique_ptr<TiercachedProcess> CliTest::daemon_;

}  // namespace tiercache::test
