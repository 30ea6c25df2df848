// The scripts compiled into the library are the .lua files of src/ratelimit/, byte for byte, and
// each file opens with its essay.
#include "ratelimit/scripts.hpp"

#include "tests/support/paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace
}  // namespace tiercache::ratelimit
