// deploy/redis.conf: the installed redis-server accepts every directive in it, its choices are in
// effect, and its eviction policy evicts entries (which carry TTLs) while it keeps a namespace
// version key (which has none). Site-specific lines (port, dir, logfile...) give way to the
// harness's own, which is why the file is read here rather than passed as it is.

#include "tiercache/redis/client.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tiercache {
namespace {

using namespace std::chrono_literals;

std::filesystem::path deploy_conf() { return test::source_dir() / "deploy" / "redis.conf"; }

// The directives of deploy/redis.conf, without those that name this host's paths and ports.
std::vector<std::string> deploy_directives() {
  static const std::set<std::string> site_specific{
      "port",       "dir",        "logfile",        "pidfile", "daemonize",
      "supervised", "unixsocket", "unixsocketperm", "include"};
  std::ifstream in(deploy_conf());
  EXPECT_TRUE(in) << "cannot read " << deploy_conf();
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    std::string name;
    std::istringstream(line.substr(start)) >> name;
    if (!site_specific.contains(name)) lines.push_back(line.substr(start));
  }
  return lines;
}

std::string config_get(const test::RedisServer& server, const std::string& name) {
  const std::string out = server.cli({"CONFIG", "GET", name});
  const auto nl = out.find('\n');
  return nl == std::string::npos ? std::string() : out.substr(nl + 1);
}

std::uint64_t info_field(const test::RedisServer& server, const std::string& section,
                         const std::string& field) {
  const std::string info = server.cli({"INFO", section});
  const std::string mark = field + ":";
  const auto at = info.find(mark);
  if (at == std::string::npos) return 0;
  std::uint64_t n = 0;
  std::from_chars(info.data() + at + mark.size(), info.data() + info.size(), n);
  return n;
}

TEST(RedisConfTest, TheDeployedConfigStartsAndTakesEffect) {
  const auto directives = deploy_directives();
  ASSERT_GT(directives.size(), 10u);
  test::RedisServer server(test::RedisServer::Options{.extra = directives});
  EXPECT_EQ(config_get(server, "maxmemory-policy"), "volatile-lfu");
  EXPECT_NE(config_get(server, "maxmemory"), "0");
  EXPECT_EQ(config_get(server, "save"), "");
  EXPECT_EQ(config_get(server, "appendonly"), "no");
  EXPECT_EQ(config_get(server, "protected-mode"), "yes");
  EXPECT_EQ(config_get(server, "lazyfree-lazy-eviction"), "yes");
  EXPECT_EQ(config_get(server, "tracking-table-max-keys"), "1000000");
  EXPECT_EQ(config_get(server, "timeout"), "0");
}

// Why volatile-lfu: the namespace version key has no TTL and must never be evicted, or the
// whole namespace misses once (docs/decisions/0008-redis-for-a-cache.md and 0012).
TEST(RedisConfTest, EvictsEntriesButNeverTheNamespaceVersionKey) {
  auto directives = deploy_directives();
  directives.push_back("maxmemory 4mb");  // small enough to fill quickly
  test::RedisServer server(test::RedisServer::Options{.extra = directives});
  test::IoThreads io(1);
  redis::Client client(io.executor(), server.config());
  client.start();
  ASSERT_TRUE(test::exec_sync(client, test::command("SET", "flights:version", "7")));

  const std::string value(1024, 'x');
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 250;  // 10 000 entries of 1 KiB: 2.5 x maxmemory
  for (int b = 0; b < kBatches; ++b) {
    resp::Request req;
    for (int i = 0; i < kPerBatch; ++i) {
      req.push("SET", "flights:v7:k" + std::to_string(b * kPerBatch + i), value, "PX", 600000);
    }
    ASSERT_TRUE(test::exec_sync(client, std::move(req)));
  }
  EXPECT_GT(info_field(server, "stats", "evicted_keys"), 0u);
  auto version = test::exec_sync(client, test::command("GET", "flights:version"));
  ASSERT_TRUE(version);
  EXPECT_EQ(version->str(), "7");
  auto dbsize = test::exec_sync(client, test::command("DBSIZE"));
  ASSERT_TRUE(dbsize);
  EXPECT_LT(dbsize->integer(), kBatches * kPerBatch);
}

}  // namespace
}  // namespace tiercache
