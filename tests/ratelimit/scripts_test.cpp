// The scripts compiled into the library are the .lua files of src/ratelimit/, byte for byte, and
// each file opens with its essay. Run directly on a redis-server, a batch of N decisions (a key
// several times, keys interleaved, peeks, costs > 1) answers what N calls in a row would.
#include "ratelimit/scripts.hpp"

#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tiercache::ratelimit {
namespace {

std::string read_lua(std::string_view name) {
  const std::filesystem::path root = test::source_dir();
  std::ifstream in(root / "src" / "ratelimit" / std::string(name), std::ios::binary);
  EXPECT_TRUE(in) << "cannot read src/ratelimit/" << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class ScriptsTest : public testing::TestWithParam<Algorithm> {};

INSTANTIATE_TEST_SUITE_P(Algorithms, ScriptsTest,
                         testing::Values(Algorithm::sliding_log, Algorithm::sliding_window,
                                         Algorithm::token_bucket),
                         [](const auto& param) { return std::string(to_string(param.param)); });

TEST_P(ScriptsTest, TheCompiledScriptIsTheLuaFile) {
  const std::string file = read_lua(lua_file_name(GetParam()));
  ASSERT_FALSE(file.empty());
  // On failure: the build did not embed src/ratelimit/<name>.lua again (embed_scripts.cmake).
  EXPECT_EQ(script_for(GetParam()).source(), file) << lua_file_name(GetParam());
}

TEST_P(ScriptsTest, OpensWithAnEssay) {
  const std::string& source = script_for(GetParam()).source();
  EXPECT_TRUE(source.starts_with("-- ")) << lua_file_name(GetParam());
  for (const char* section : {"Exactness.", "Memory.", "Atomicity.", "TIME"}) {
    EXPECT_NE(source.find(section), std::string::npos) << lua_file_name(GetParam()) << section;
  }
}

TEST(ScriptsSha1Test, EachAlgorithmHasItsOwnScript) {
  EXPECT_NE(script_for(Algorithm::sliding_log).sha1(),
            script_for(Algorithm::sliding_window).sha1());
  EXPECT_NE(script_for(Algorithm::sliding_log).sha1(), script_for(Algorithm::token_bucket).sha1());
  EXPECT_NE(script_for(Algorithm::token_bucket).sha1(),
            script_for(Algorithm::sliding_window).sha1());
}

// The scripts' fixed arguments for 5 units per 60 s (as the Limiter writes them).
std::vector<std::string> fixed_args(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::sliding_log:
      return {"5", "60000000", "60001"};
    case Algorithm::sliding_window:
      return {"5", "60000000"};
    case Algorithm::token_bucket:
      return {"12000000", "60000000", "60001"};
  }
  return {};
}

struct Step {
  std::string key;
  int cost = 1;  // negative: a peek
};

// One decision of a reply: {allowed, remaining, retry-after us, reset-after us}.
struct Outcome {
  long allowed = -1, remaining = -1, retry = -1, reset = -1;
};

class ScriptsOnRedisTest : public testing::TestWithParam<Algorithm> {
 protected:
  // EVAL of the script with `steps` as one batch: the reply's lines (redis-cli, one per number).
  std::vector<std::string> eval(const std::vector<Step>& steps) {
    std::vector<std::string> args{"EVAL", script_for(GetParam()).source(),
                                  std::to_string(steps.size())};
    for (const Step& s : steps) args.push_back(s.key);
    for (const std::string& f : fixed_args(GetParam())) args.push_back(f);
    for (const Step& s : steps) args.push_back(std::to_string(s.cost));
    const std::string text = server_.cli(args);
    std::vector<std::string> lines;
    std::istringstream in(text);
    // redis-cli ends an error inside an array with an empty line.
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }
  // The decisions of one batch, after checking the reply's shape: 4N + 1 numbers.
  std::vector<Outcome> batch(const std::vector<Step>& steps) {
    const std::vector<std::string> lines = eval(steps);
    std::vector<Outcome> out;
    EXPECT_EQ(lines.size(), 1 + 4 * steps.size()) << server_.cli({"PING"});
    if (lines.size() != 1 + 4 * steps.size()) return out;
    EXPECT_GT(std::stol(lines[0]), 1'600'000'000'000'000L);  // the server's now, in us
    for (std::size_t i = 0; i < steps.size(); ++i) {
      out.push_back({std::stol(lines[1 + 4 * i]), std::stol(lines[2 + 4 * i]),
                     std::stol(lines[3 + 4 * i]), std::stol(lines[4 + 4 * i])});
    }
    return out;
  }

  tiercache::test::RedisServer server_;
};

INSTANTIATE_TEST_SUITE_P(Algorithms, ScriptsOnRedisTest,
                         testing::Values(Algorithm::sliding_log, Algorithm::sliding_window,
                                         Algorithm::token_bucket),
                         [](const auto& param) { return std::string(to_string(param.param)); });

TEST_P(ScriptsOnRedisTest, OneKeyRepeatedInABatchDecidesAsCallsInARow) {
  const std::vector<Outcome> together = batch(std::vector<Step>(8, Step{"a"}));
  ASSERT_EQ(together.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    const std::vector<Outcome> alone = batch({Step{"b"}});
    const long n = static_cast<long>(i);
    ASSERT_EQ(alone.size(), 1u);
    EXPECT_EQ(together[i].allowed, alone[0].allowed) << i;
    EXPECT_EQ(together[i].remaining, alone[0].remaining) << i;
    EXPECT_EQ(together[i].allowed, n < 5 ? 1 : 0) << i;
    EXPECT_EQ(together[i].remaining, n < 5 ? 4 - n : 0) << i;
    if (i >= 5) {
      EXPECT_GT(together[i].retry, 10'000'000) << i;
      EXPECT_GT(alone[0].retry, 10'000'000) << i;
    }
    EXPECT_GT(together[i].reset, 0) << i;
  }
  // The same state was written either way.
  const std::vector<Outcome> a = batch({Step{"a", -1}});
  const std::vector<Outcome> b = batch({Step{"b", -1}});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].allowed, 0);
  EXPECT_EQ(b[0].allowed, 0);
  EXPECT_EQ(a[0].remaining, b[0].remaining);
  if (GetParam() == Algorithm::sliding_log) {
    EXPECT_EQ(server_.cli({"ZCARD", "a"}), "5");
    EXPECT_EQ(server_.cli({"ZCARD", "b"}), "5");
  }
  if (GetParam() == Algorithm::sliding_window) {
    EXPECT_EQ(server_.cli({"HGET", "a", "c"}), "5");
    EXPECT_EQ(server_.cli({"HGET", "b", "c"}), "5");
  }
}

TEST_P(ScriptsOnRedisTest, InterleavedKeysPeeksAndCosts) {
  const std::vector<Outcome> d =
      batch({{"a", 2}, {"b", 1}, {"a", -3}, {"a", 2}, {"b", 3}, {"a", 2}, {"a", -1}, {"c", -5}});
  ASSERT_EQ(d.size(), 8u);
  const long allowed[] = {1, 1, 1, 1, 1, 0, 1, 1};
  const long remaining[] = {3, 4, 3, 1, 1, 1, 1, 5};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(d[i].allowed, allowed[i]) << i;
    EXPECT_EQ(d[i].remaining, remaining[i]) << i;
    EXPECT_EQ(d[i].retry > 0, allowed[i] == 0) << i;
  }
  EXPECT_EQ(server_.cli({"EXISTS", "c"}), "0");  // peeked only: nothing written
  EXPECT_GT(std::stol(server_.cli({"PTTL", "a"})), 0);
  EXPECT_GT(std::stol(server_.cli({"PTTL", "b"})), 0);
}

TEST_P(ScriptsOnRedisTest, AKeyOfAnotherTypeFailsOnlyItsOwnDecisions) {
  ASSERT_EQ(server_.cli({"SET", "bad", "x"}), "OK");
  const std::vector<std::string> lines = eval({{"bad", 1}, {"good", 1}, {"bad", -1}});
  ASSERT_EQ(lines.size(), 13u);
  // An error's text, not a number: WRONGTYPE, or the token bucket's "holds no TAT".
  EXPECT_NE(lines[1].find_first_not_of("0123456789-"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[5], "1");  // good: admitted
  EXPECT_EQ(lines[6], "4");
  EXPECT_NE(lines[9].find_first_not_of("0123456789-"), std::string::npos) << lines[9];
  EXPECT_EQ(server_.cli({"GET", "bad"}), "x");
}

TEST_P(ScriptsOnRedisTest, AWrongNumberOfArgumentsIsAnError) {
  std::vector<std::string> args{"EVAL", script_for(GetParam()).source(), "2", "a", "b"};
  for (const std::string& f : fixed_args(GetParam())) args.push_back(f);
  args.push_back("1");  // one cost for two keys
  EXPECT_NE(server_.cli(args).find("one argument per key"), std::string::npos);
  EXPECT_EQ(server_.cli({"DBSIZE"}), "0");
}

}  // namespace
}  // namespace tiercache::ratelimit
