// The `tiercache` command against a real tiercached and a real redis-server: every subcommand's
// output and exit code, --json parsed, usage errors (2), an unreachable daemon (3), a refused
// token (4). Most tests call cli::run in process; one runs the built executable.

#include "tests/cli/cli_fixture.hpp"

#include <atomic>

namespace tiercache::test {
namespace {

TEST_F(CliTest, SetThenGetGivesTheBytesBack) {
  auto set = cli({"set", "users", "alice", "{\"name\":\"Alice\"}", "--ttl", "5m", "--tag",
                  "team:red", "--priority", "high"});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_NE(set.out.find("stored users/alice"), std::string::npos) << set.out;
  auto get = cli({"get", "users", "alice"});
  EXPECT_EQ(get.code, 0) << get.err;
  EXPECT_EQ(get.out, "{\"name\":\"Alice\"}");  // exactly, no newline added
}

TEST_F(CliTest, SetReadsStdinAndFilesBytesExact) {
  const std::string binary("\x00\x01\xff\n\r bytes", 11);
  ASSERT_EQ(cli({"set", "users", "bin"}, binary).code, 0);
  EXPECT_EQ(cli({"get", "users", "bin"}).out, binary);
  ASSERT_EQ(cli({"set", "users", "dash", "-"}, "from stdin").code, 0);
  EXPECT_EQ(cli({"get", "users", "dash"}).out, "from stdin");
  const auto file = daemon_->dir() / "value.bin";
  std::ofstream(file, std::ios::binary) << binary;
  ASSERT_EQ(cli({"set", "users", "file", "--file", file.string()}).code, 0);
  EXPECT_EQ(cli({"get", "users", "file"}).out, binary);
  // Binary values travel in --json as base64.
  auto j = cli({"get", "users", "bin", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(parse(j.out).at("value_base64").as_string(), "AAH/Cg0gYnl0ZXM=");
}

TEST_F(CliTest, KeysWithSlashesAndSpacesRoundTrip) {
  ASSERT_EQ(cli({"set", "users", "a/b c?d", "v"}).code, 0);
  EXPECT_EQ(cli({"get", "users", "a/b c?d"}).out, "v");
}

TEST_F(CliTest, GetJsonCarriesTtlAndContentType) {
  ASSERT_EQ(
      cli({"set", "users", "j", "hello", "--ttl", "90s", "--content-type", "text/plain"}).code, 0);
  auto r = cli({"--json", "get", "users", "j"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto o = parse(r.out);
  EXPECT_TRUE(o.at("found").as_bool());
  EXPECT_EQ(o.at("value").as_string(), "hello");
  EXPECT_EQ(o.at("content_type").as_string(), "text/plain");
  EXPECT_GT(o.at("ttl_ms").to_number<std::int64_t>(), 0);
  EXPECT_LE(o.at("fresh_ms").to_number<std::int64_t>(), 90'000);
}

TEST_F(CliTest, MissIsExitOne) {
  auto r = cli({"get", "users", "nobody"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  auto j = cli({"get", "users", "nobody", "--json"});
  EXPECT_EQ(j.code, 1);
  EXPECT_FALSE(parse(j.out).at("found").as_bool());
  EXPECT_EQ(cli({"ttl", "users", "nobody"}).code, 1);
}

TEST_F(CliTest, UnknownNamespaceIsNotFoundWithTheDaemonsReason) {
  auto r = cli({"set", "nosuchns", "k", "v"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nosuchns"), std::string::npos) << r.err;
}

TEST_F(CliTest, DelAndTtl) {
  ASSERT_EQ(cli({"set", "users", "d", "v", "--ttl", "1h"}).code, 0);
  auto ttl = cli({"ttl", "users", "d"});
  EXPECT_EQ(ttl.code, 0) << ttl.err;
  EXPECT_NE(ttl.out.find("FRESH FOR"), std::string::npos) << ttl.out;
  auto ttl_json = cli({"ttl", "users", "d", "--json"});
  const auto o = parse(ttl_json.out);
  EXPECT_GT(o.at("fresh_ms").to_number<std::int64_t>(), 3'500'000);
  EXPECT_FALSE(o.at("stale").as_bool());
  auto del = cli({"del", "users", "d"});
  EXPECT_EQ(del.code, 0) << del.err;
  EXPECT_EQ(del.out, "deleted users/d\n");
  EXPECT_EQ(cli({"get", "users", "d"}).code, 1);
  auto again = cli({"del", "users", "d", "--json"});
  EXPECT_EQ(again.code, 1);
  EXPECT_FALSE(parse(again.out).at("deleted").as_bool());
}

TEST_F(CliTest, InvalidateByKeyTagPatternAndAll) {
  ASSERT_EQ(cli({"set", "users", "k1", "1"}).code, 0);
  ASSERT_EQ(cli({"set", "users", "k2", "2", "--tag", "city:paris"}).code, 0);
  ASSERT_EQ(cli({"set", "users", "session:1", "3"}).code, 0);
  ASSERT_EQ(cli({"set", "users", "keep", "4"}).code, 0);

  auto keys = cli({"invalidate", "users", "--key", "k1", "--json"});
  ASSERT_EQ(keys.code, 0) << keys.err;
  EXPECT_EQ(parse(keys.out).at("keys_deleted").to_number<int>(), 1);
  EXPECT_EQ(cli({"get", "users", "k1"}).code, 1);

  auto tags = cli({"invalidate", "users", "--tag", "city:paris"});
  ASSERT_EQ(tags.code, 0) << tags.err;
  EXPECT_NE(tags.out.find("tags invalidated"), std::string::npos) << tags.out;
  EXPECT_EQ(cli({"get", "users", "k2"}).code, 1);

  auto pattern = cli({"invalidate", "users", "--pattern", "session:*"});
  ASSERT_EQ(pattern.code, 0) << pattern.err;
  EXPECT_EQ(cli({"get", "users", "session:1"}).code, 1);
  EXPECT_EQ(cli({"get", "users", "keep"}).code, 0);

  ASSERT_EQ(cli({"invalidate", "users", "--all"}).code, 0);
  EXPECT_EQ(cli({"get", "users", "keep"}).code, 1);

  auto nothing = cli({"invalidate", "users"});
  EXPECT_EQ(nothing.code, 2);
  EXPECT_NE(nothing.err.find("--key, --tag, --pattern or --all"), std::string::npos);
}

TEST_F(CliTest, StatsTableAndJson) {
  ASSERT_EQ(cli({"set", "default", "s", "v"}).code, 0);
  ASSERT_EQ(cli({"get", "default", "s"}).code, 0);
  EXPECT_EQ(cli({"get", "default", "missing"}).code, 1);
  auto table = cli({"stats"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("NAMESPACE"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("HIT RATE"), std::string::npos);
  EXPECT_NE(table.out.find("users"), std::string::npos);
  // Aligned: every line of the table has its HITS column ending at the same place.
  std::istringstream lines(table.out);
  std::string header;
  std::getline(lines, header);
  const auto hits_end = header.find("HITS") + 4;
  std::string line;
  while (std::getline(lines, line) && !line.empty()) {
    ASSERT_GT(line.size(), hits_end);
    EXPECT_NE(line[hits_end - 1], ' ') << line;
    EXPECT_EQ(line[hits_end], ' ') << line;
  }
  auto j = cli({"stats", "--json"});
  ASSERT_EQ(j.code, 0);
  const auto o = parse(j.out);
  const auto& ns = o.at("namespaces").at("default").as_object();
  EXPECT_GE(ns.at("hits").to_number<std::uint64_t>(), 1u);
  EXPECT_GE(ns.at("misses").to_number<std::uint64_t>(), 1u);
  auto one = cli({"stats", "default", "--json"});
  EXPECT_TRUE(parse(one.out).contains("hit_rate"));
  EXPECT_EQ(cli({"stats", "nosuch"}).code, 1);
}

TEST_F(CliTest, HealthGivesStatusAndExitCode) {
  auto r = cli({"health"});
  EXPECT_NE(r.out.find("health  "), std::string::npos) << r.out << r.err;
  auto j = cli({"health", "--json"});
  const auto o = parse(j.out);
  const std::string status(o.at("health").at("status").as_string());
  const int expected = status == "healthy" ? 0 : status == "degraded" ? 6 : 7;
  EXPECT_EQ(j.code, expected) << status;
  EXPECT_EQ(r.code, expected);
  EXPECT_NE(r.out.find(status), std::string::npos);
}

TEST_F(CliTest, RateLimitAllowsThenDenies) {
  auto first = cli({"ratelimit", "search", "--key", "who", "--json"});
  ASSERT_EQ(first.code, 0) << first.err;
  const auto o = parse(first.out);
  EXPECT_TRUE(o.at("allowed").as_bool());
  EXPECT_EQ(o.at("limit").to_number<int>(), 2);
  EXPECT_EQ(o.at("remaining").to_number<int>(), 1);
  auto second = cli({"ratelimit", "search", "--key", "who"});
  EXPECT_EQ(second.code, 0);
  EXPECT_NE(second.out.find("allowed  0 of 2"), std::string::npos) << second.out;
  auto third = cli({"ratelimit", "search", "--key", "who"});
  EXPECT_EQ(third.code, 6);
  EXPECT_NE(third.out.find("denied"), std::string::npos) << third.out;
  EXPECT_EQ(cli({"ratelimit", "nosuchlimit"}).code, 1);
  EXPECT_EQ(cli({"ratelimit", "search", "--cost", "0"}).code, 2);
}

TEST_F(CliTest, RateLimitPeekSpendsNothing) {
  for (int i = 0; i < 3; ++i) {
    auto peek = cli({"ratelimit", "search", "--key", "peeker", "--peek", "--json"});
    ASSERT_EQ(peek.code, 0) << peek.err;
    const auto o = parse(peek.out);
    EXPECT_TRUE(o.at("allowed").as_bool());
    EXPECT_TRUE(o.at("peek").as_bool());
    EXPECT_EQ(o.at("remaining").to_number<int>(), 2);  // peeking spent none of it
  }
  ASSERT_EQ(cli({"ratelimit", "search", "--key", "peeker"}).code, 0);
  auto one = cli({"ratelimit", "search", "--key", "peeker", "--peek"});
  EXPECT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find("would allow  1 of 2 left"), std::string::npos) << one.out;
  ASSERT_EQ(cli({"ratelimit", "search", "--key", "peeker"}).code, 0);
  // Spent: the peek says no (exit 6) with the wait, and still spends nothing.
  auto spent = cli({"ratelimit", "search", "--key", "peeker", "--peek"});
  EXPECT_EQ(spent.code, 6);
  EXPECT_NE(spent.out.find("would deny  0 of 2 left"), std::string::npos) << spent.out;
  EXPECT_NE(spent.out.find("retry after"), std::string::npos) << spent.out;
  auto json_spent = cli({"ratelimit", "search", "--key", "peeker", "--peek", "--json"});
  EXPECT_EQ(json_spent.code, 6);
  const auto o = parse(json_spent.out);
  EXPECT_FALSE(o.at("allowed").as_bool());
  EXPECT_GE(o.at("retry_after_s").to_number<int>(), 1);
  EXPECT_GE(o.at("reset_s").to_number<int>(), 1);
  EXPECT_EQ(cli({"ratelimit", "nosuchlimit", "--peek"}).code, 1);
}

TEST_F(CliTest, WarmSendsKeysAndReportsASummary) {
  ASSERT_EQ(cli({"set", "users", "w1", "1"}).code, 0);
  ASSERT_EQ(cli({"set", "users", "w2", "2"}).code, 0);
  const auto file = daemon_->dir() / "warm.txt";
  std::ofstream(file) << "# hot keys\nusers w1\nusers w2\n\nusers absent\n";
  auto r = cli({"--token", kToken, "warm", "--file", file.string(), "--batch", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("warmed 2 of 3"), std::string::npos) << r.out;
  auto j = cli({"--token", kToken, "--json", "warm", "-f", "-"}, "users w1\nusers nope\n");
  ASSERT_EQ(j.code, 0) << j.err;
  const auto o = parse(j.out);
  EXPECT_EQ(o.at("items").to_number<int>(), 2);
  EXPECT_EQ(o.at("warmed").to_number<int>(), 1);
  EXPECT_EQ(o.at("missed").to_number<int>(), 1);
  // A path without a proxy route fails that item: exit 6, and it is named.
  auto path = cli({"--token", kToken, "warm", "-f", "-"}, "/no/route\n");
  EXPECT_EQ(path.code, 6);
  EXPECT_NE(path.out.find("no proxy route"), std::string::npos) << path.out;
}

TEST_F(CliTest, WarmChecksTheWholeFileFirst) {
  auto r = cli({"--token", kToken, "warm", "-f", "-"}, "users ok\njustonefield\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("stdin:2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was warmed"), std::string::npos) << r.err;
}

TEST_F(CliTest, WrongOrMissingTokenIsExitFour) {
  auto wrong = cli({"--token", "not-the-token-at-all", "warm", "-f", "-"}, "users a\n");
  EXPECT_EQ(wrong.code, 4);
  EXPECT_NE(wrong.err.find("401"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("check the token"), std::string::npos) << wrong.err;
  auto missing = cli({"warm", "-f", "-"}, "users a\n");
  EXPECT_EQ(missing.code, 4);
  EXPECT_NE(missing.err.find("--token or TIERCACHE_TOKEN"), std::string::npos) << missing.err;
}

TEST_F(CliTest, BenchFinishesAndReports) {
  auto r = cli({"bench", "--requests", "300", "--concurrency", "3", "--keys", "50"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("300 requests"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p99"), std::string::npos);
  EXPECT_NE(r.out.find("requests/s"), std::string::npos);
  auto j =
      cli({"--json", "bench", "--duration", "300ms", "--concurrency", "2", "--read-ratio", "1"});
  ASSERT_EQ(j.code, 0) << j.err;
  const auto o = parse(j.out);
  EXPECT_GT(o.at("requests").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o.at("sets").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o.at("errors").to_number<std::uint64_t>(), 0u);
  // Prefilled, so every GET hits.
  EXPECT_EQ(o.at("hits").to_number<std::uint64_t>(), o.at("gets").to_number<std::uint64_t>());
  EXPECT_LE(o.at("p50_ms").as_double(), o.at("p99_ms").as_double());
}

TEST_F(CliTest, BenchRefusesARemoteServerUnlessAsked) {
  auto r = cli_raw({"--server", "http://192.0.2.1:8080", "bench", "--requests", "1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--allow-remote"), std::string::npos) << r.err;
}

TEST_F(CliTest, TopOncePrintsOneFrame) {
  ASSERT_EQ(cli({"set", "default", "t", "v"}).code, 0);
  auto r = cli({"top", "--once", "--interval", "0.2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ops/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hit rate"), std::string::npos);
  EXPECT_NE(r.out.find("latency"), std::string::npos);
  EXPECT_NE(r.out.find("memory"), std::string::npos);
  EXPECT_NE(r.out.find("NAMESPACE"), std::string::npos);
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos);  // no terminal codes when not a terminal
  auto j = cli({"top", "--once", "--interval", "0.1", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const auto o = parse(j.out);
  EXPECT_TRUE(o.contains("ops_per_s"));
  EXPECT_TRUE(o.at("stats").as_object().contains("namespaces"));
}

TEST_F(CliTest, TopMeasuresTheLatencyOfRequestsDuringTheInterval) {
  // Route patterns hold braces ({ns}/{key}): the histogram's labels must still be read.
  ASSERT_EQ(cli({"set", "default", "lat", "v"}).code, 0);
  std::atomic<bool> stop = false;
  std::thread load([&stop] {
    while (!stop) cli({"get", "default", "lat"});
  });
  auto r = cli({"top", "--once", "--interval", "0.5", "--json"});
  stop = true;
  load.join();
  ASSERT_EQ(r.code, 0) << r.err;
  const auto o = parse(r.out);
  EXPECT_GT(o.at("http_requests").to_number<std::uint64_t>(), 0u) << r.out;
  EXPECT_TRUE(o.at("latency_p99_s").is_number()) << r.out;
}

TEST_F(CliTest, UsageErrorsAreExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"nosuchcommand"},
           {"get", "users"},
           {"set", "users", "k", "v", "--priority", "urgent"},
           {"set", "users", "k", "v", "--file", "/nonexistent/file"},
           {"bench", "--concurrency", "0"},
           {"bench", "--requests", "5", "--duration", "1s"},
           {"--server", "ftp://example.org", "stats"},
           {"stats", "--no-such-flag"}}) {
    auto r = cli_raw(args);
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args) << "\n" << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  // The daemon's own refusal of bad input: a TTL that is not a duration.
  auto ttl = cli({"set", "users", "k", "v", "--ttl", "soon"});
  EXPECT_EQ(ttl.code, 2);
  EXPECT_NE(ttl.err.find("not a duration"), std::string::npos) << ttl.err;
}

TEST_F(CliTest, HelpOnEveryCommandHasExamples) {
  for (const std::string command : {"get", "set", "del", "ttl", "invalidate", "stats", "health",
                                    "ratelimit", "warm", "bench", "top"}) {
    auto r = cli_raw({command, "--help"});
    EXPECT_EQ(r.code, 0) << command;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << command << ":\n" << r.out;
  }
  auto top = cli_raw({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("invalidate"), std::string::npos);
}

TEST_F(CliTest, UnreachableServerIsExitThreeWithAHint) {
  const auto port = free_port();  // nothing listens there
  auto r = cli_raw({"--server", "http://127.0.0.1:" + std::to_string(port), "get", "users", "k"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("cannot reach tiercached at http://127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is it running? (--server)"), std::string::npos) << r.err;
  EXPECT_EQ(cli_raw({"--server", "http://127.0.0.1:" + std::to_string(port), "stats"}).code, 3);
}

TEST_F(CliTest, TheBuiltProgramRunsWithTheSameExitCodes) {
  const auto binary = test::tiercache_cli_binary();
  ASSERT_TRUE(std::filesystem::exists(binary)) << binary;
  const auto set = run_process(
      {binary.string(), "--server", daemon_->url(), "set", "users", "proc", "from the process"},
      std::chrono::seconds(30));
  EXPECT_EQ(set.exit_code, 0) << set.output;
  const auto get =
      run_process({binary.string(), "--server", daemon_->url(), "get", "users", "proc"},
                  std::chrono::seconds(30));
  EXPECT_EQ(get.exit_code, 0) << get.output;
  EXPECT_EQ(get.output, "from the process");
  const auto miss =
      run_process({binary.string(), "--server", daemon_->url(), "get", "users", "absent"},
                  std::chrono::seconds(30));
  EXPECT_EQ(miss.exit_code, 1) << miss.output;
  const auto usage = run_process({binary.string(), "get"}, std::chrono::seconds(30));
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  const auto version = run_process({binary.string(), "--version"}, std::chrono::seconds(30));
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("tiercache 0."), std::string::npos) << version.output;
}

}  // namespace
}  // namespace tiercache::test
