// Differential test: hiredis's redisReader (the RESP2 oracle) and ours read the same bytes, cut
// into the same random pieces, and must return the same trees.
#include "tiercache/resp/reader.hpp"

#include "tests/resp/hiredis_oracle.hpp"
#include "tests/resp/tree.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::resp {
namespace {

using testing::HiredisNode;
using testing::HiredisReader;

struct Both {
  std::vector<std::string> ours;
  std::vector<std::string> hiredis;
  bool ours_failed = false;
  bool hiredis_failed = false;
};

// Feeds both readers `bytes` in pieces of random length (up to max_piece), draining both.
Both read_both(std::string_view bytes, std::mt19937_64& rng, std::size_t max_piece) {
  Both out;
  Reader ours;
  HiredisReader theirs;
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % max_piece, bytes.size() - at);
    ours.feed(bytes.substr(at, n));
    theirs.feed(bytes.substr(at, n));
    at += n;
    for (auto r = ours.next(); !out.ours_failed; r = ours.next()) {
      if (r.has_error()) {
        out.ours_failed = true;
      } else if (!*r) {
        break;
      } else {
        out.ours.push_back(testing::describe(**r));
      }
    }
    for (std::unique_ptr<HiredisNode> reply; !out.hiredis_failed;) {
      const int got = theirs.next(reply);
      if (got < 0) out.hiredis_failed = true;
      if (got <= 0) break;
      out.hiredis.push_back(testing::describe(*reply));
    }
  }
  return out;
}

// A random RESP2 value; hiredis nests at most 7 levels, so depth stays below.
void generate(std::mt19937_64& rng, int depth, std::string& out) {
  const auto pick = rng() % (depth < 6 ? 9 : 7);
  const auto text = [&](bool binary, std::size_t max) {
    std::string s(rng() % (max + 1), ' ');
    for (char& c : s) {
      c = binary ? static_cast<char>(rng() % 256) : static_cast<char>(' ' + rng() % 95);
    }
    return s;
  };
  switch (pick) {
    case 0:
      out += "+" + text(false, 20) + "\r\n";
      break;
    case 1:
      out += "-ERR " + text(false, 30) + "\r\n";
      break;
    case 2: {
      const std::int64_t edge[] = {0, -1, INT64_MIN, INT64_MAX};
      const auto v =
          rng() % 3 == 0 ? edge[rng() % 4] : static_cast<std::int64_t>(rng()) >> (rng() % 64);
      out += ":" + std::to_string(v) + "\r\n";
      break;
    }
    case 3:
    case 4: {
      const std::string s = text(true, rng() % 8 == 0 ? 3000 : 120);
      out += "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
      break;
    }
    case 5:
      out += "$-1\r\n";
      break;
    case 6:
      out += "*-1\r\n";
      break;
    default: {
      const auto n = rng() % 6;
      out += "*" + std::to_string(n) + "\r\n";
      for (std::uint64_t i = 0; i < n; ++i) generate(rng, depth + 1, out);
    }
  }
}

TEST(ReaderHiredisTest, RandomRepliesGiveTheSameTreesAsHiredis) {
  std::mt19937_64 rng(20240611);
  std::size_t replies = 0;
  for (int round = 0; round < 300; ++round) {
    std::string bytes;
    const auto count = 1 + rng() % 20;
    for (std::uint64_t i = 0; i < count; ++i) generate(rng, 0, bytes);
    const std::size_t max_piece = round % 3 == 0 ? 1 : round % 3 == 1 ? 7 : 4096;
    const Both both = read_both(bytes, rng, max_piece);
    ASSERT_FALSE(both.ours_failed) << "round " << round;
    ASSERT_FALSE(both.hiredis_failed) << "round " << round;
    ASSERT_EQ(both.ours.size(), count);
    ASSERT_EQ(both.ours, both.hiredis) << "round " << round;
    replies += count;
  }
  EXPECT_GT(replies, 2000u);
}

TEST(ReaderHiredisTest, HandWrittenRepliesGiveTheSameTreesAsHiredis) {
  const std::string_view cases[] = {
      "+OK\r\n",
      "+\r\n",
      "+a\rb\nc\r\n",
      "-ERR unknown command 'FOO'\r\n",
      ":0\r\n:-1\r\n:9223372036854775807\r\n:-9223372036854775807\r\n",
      "$0\r\n\r\n",
      "$-1\r\n",
      "*-1\r\n",
      "*0\r\n",
      "$10\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
      "*3\r\n$3\r\nfoo\r\n$-1\r\n:7\r\n",
      "*2\r\n*2\r\n+a\r\n*0\r\n*1\r\n*1\r\n*1\r\n-E\r\n",
      "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:7\r\n",
  };
  std::mt19937_64 rng(7);
  for (const std::string_view bytes : cases) {
    for (const std::size_t piece : {1u, 2u, 3u, 1000u}) {
      const Both both = read_both(bytes, rng, piece);
      EXPECT_FALSE(both.ours_failed) << bytes;
      EXPECT_FALSE(both.hiredis_failed) << bytes;
      EXPECT_FALSE(both.ours.empty()) << bytes;
      EXPECT_EQ(both.ours, both.hiredis) << bytes;
    }
  }
}

TEST(ReaderHiredisTest, BothRejectUnknownTypeBytes) {
  std::mt19937_64 rng(3);
  for (const std::string_view bytes : {"+OK\r\n?\r\n", "*2\r\n:1\r\nx\r\n", "+OK\r\n\r\n"}) {
    const Both both = read_both(bytes, rng, 100);
    EXPECT_TRUE(both.ours_failed) << bytes;
    EXPECT_TRUE(both.hiredis_failed) << bytes;
    EXPECT_EQ(both.ours, both.hiredis) << bytes;
  }
}

}  // namespace
}  // namespace tiercache::resp
