#include "tiercache/resp/request.hpp"

#include "tiercache/resp/reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::resp {
namespace {

using namespace std::string_view_literals;

// The arguments of each command in the payload, decoded by our own reader.
std::vector<std::vector<std::string>> commands_of(const Request& req) {
  Reader reader;
  reader.feed(req.payload());
  std::vector<std::vector<std::string>> out;
  for (auto r = reader.next(); r && *r; r = reader.next()) {
    EXPECT_EQ((*r)->type(), Type::array);
    auto& args = out.emplace_back();
    for (const ReplyView arg : **r) {
      EXPECT_EQ(arg.type(), Type::blob_string);
      args.emplace_back(arg.str());
    }
  }
  EXPECT_EQ(reader.buffered(), 0u);
  return out;
}

TEST(RequestTest, EncodesACommandAsAnArrayOfBlobStrings) {
  Request req;
  req.push("SET", "key", std::string("value"), "PX"sv, 5000);
  EXPECT_EQ(req.payload(),
            "*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n$2\r\nPX\r\n$4\r\n5000\r\n");
  EXPECT_EQ(req.commands(), 1u);
  EXPECT_EQ(req.expected_replies(), 1u);
  EXPECT_FALSE(req.empty());
}

TEST(RequestTest, ArgumentsAreBinarySafe) {
  Request req;
  const std::string value("a\0b\r\n$3\r\n"sv);
  req.push("SET", "k\r\n", value).push("GET", ""sv);
  const auto cmds = commands_of(req);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0], (std::vector<std::string>{"SET", "k\r\n", value}));
  EXPECT_EQ(cmds[1], (std::vector<std::string>{"GET", ""}));
  EXPECT_EQ(req.commands(), 2u);
}

TEST(RequestTest, WritesIntegersInDecimal) {
  Request req;
  req.push("X", std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
           0, static_cast<short>(-3), 7u);
  EXPECT_EQ(commands_of(req)[0],
            (std::vector<std::string>{"X", "-9223372036854775808", "18446744073709551615", "0",
                                      "-3", "7"}));
}

TEST(RequestTest, WritesDoublesInTheShortestFormThatReadsBack) {
  Request req;
  req.push("ZADD", "z", 0.1, "a", 1e300, "b", -2.5, "c", 3.0, "d",
           std::numeric_limits<double>::infinity(), "e");
  EXPECT_EQ(commands_of(req)[0], (std::vector<std::string>{"ZADD", "z", "0.1", "a", "1e+300", "b",
                                                           "-2.5", "c", "3", "d", "inf", "e"}));
  std::mt19937_64 rng(12);
  for (int i = 0; i < 2000; ++i) {
    const double value = std::bit_cast<double>(rng());
    if (!std::isfinite(value)) continue;
    Request one;
    one.push("X", value);
    const std::string text = commands_of(one)[0][1];
    EXPECT_EQ(std::stod(text), value) << text;
  }
}

TEST(RequestTest, PushRangeAppendsAKeyAndTheRange) {
  const std::vector<std::string> keys = {"a", "b", "c"};
  Request req;
  req.push_range("MGET", "", keys);
  req.push_range("SADD", "set", std::vector<std::string_view>{"x", "y"});
  const auto cmds = commands_of(req);
  EXPECT_EQ(cmds[0], (std::vector<std::string>{"MGET", "a", "b", "c"}));
  EXPECT_EQ(cmds[1], (std::vector<std::string>{"SADD", "set", "x", "y"}));
  EXPECT_TRUE(req.flags().idempotent == false);
}

TEST(RequestTest, ClearForgetsCommandsAndFlags) {
  Request req;
  req.push("BLPOP", "q", 0);
  req.clear();
  EXPECT_TRUE(req.empty());
  EXPECT_EQ(req.payload(), "");
  EXPECT_EQ(req.expected_replies(), 0u);
  EXPECT_FALSE(req.flags().exclusive);
  req.push("GET", "k");
  EXPECT_TRUE(req.flags().idempotent);
}

struct FlagCase {
  std::vector<std::string> command;
  RequestFlags flags;
};

RequestFlags flags_of(const std::vector<std::string>& command) {
  Request req;
  req.push_range(command[0], "", std::span(command).subspan(1));
  return req.flags();
}

TEST(RequestTest, FlagsFollowTheCommandNameInAnyCase) {
  constexpr RequestFlags none{};
  constexpr RequestFlags no_reply{.no_reply = true};
  constexpr RequestFlags exclusive{.exclusive = true};
  constexpr RequestFlags idempotent{.idempotent = true};
  const std::vector<FlagCase> cases = {
      {{"SUBSCRIBE", "a"}, no_reply},
      {{"psubscribe", "a*"}, no_reply},
      {{"SSubscribe", "a"}, no_reply},
      {{"UNSUBSCRIBE"}, no_reply},
      {{"punsubscribe"}, no_reply},
      {{"SUNSUBSCRIBE", "a"}, no_reply},
      {{"BLPOP", "q", "0"}, exclusive},
      {{"brpop", "q", "0"}, exclusive},
      {{"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}, exclusive},
      {{"BRPOPLPUSH", "a", "b", "0"}, exclusive},
      {{"bzpopmin", "z", "0"}, exclusive},
      {{"BZPOPMAX", "z", "0"}, exclusive},
      {{"BLMPOP", "0", "1", "q", "LEFT"}, exclusive},
      {{"BZMPOP", "0", "1", "z", "MIN"}, exclusive},
      {{"WAIT", "1", "0"}, exclusive},
      {{"WAITAOF", "1", "0", "0"}, exclusive},
      {{"MONITOR"}, exclusive},
      {{"WATCH", "k"}, exclusive},
      {{"unwatch"}, exclusive},
      {{"GET", "k"}, idempotent},
      {{"mget", "a", "b"}, idempotent},
      {{"HGETALL", "h"}, idempotent},
      {{"Scan", "0"}, idempotent},
      {{"ZRANGE", "z", "0", "-1"}, idempotent},
      {{"TTL", "k"}, idempotent},
      {{"SET", "k", "v"}, none},
      {{"DEL", "k"}, none},
      {{"INCR", "k"}, none},
      {{"GETDEL", "k"}, none},
      {{"G"}, none},
      {{"AVERYLONGCOMMANDNAMEINDEED"}, none},
      {{"XREAD", "COUNT", "1", "STREAMS", "s", "0"}, idempotent},
      {{"XREAD", "block", "100", "STREAMS", "s", "$"}, {.exclusive = true, .idempotent = true}},
      {{"XREAD", "STREAMS", "block", "0"}, idempotent},  // a stream named "block"
      {{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}, exclusive},
      {{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}, none},
  };
  for (const auto& c : cases) {
    const RequestFlags f = flags_of(c.command);
    EXPECT_EQ(f.no_reply, c.flags.no_reply) << c.command[0];
    EXPECT_EQ(f.exclusive, c.flags.exclusive) << c.command[0];
    EXPECT_EQ(f.idempotent, c.flags.idempotent) << c.command[0];
  }
}

TEST(RequestTest, BlockIsOnlyLookedForInTheCommandItBelongsTo) {
  Request req;
  req.push("XREAD", "COUNT", "1", "STREAMS", "s", "0").push("SET", "BLOCK", "x");
  EXPECT_FALSE(req.flags().exclusive);
}

TEST(RequestTest, FlagsCombineOverSeveralCommands) {
  Request reads;
  reads.push("GET", "a").push("MGET", "b", "c");
  EXPECT_TRUE(reads.flags().idempotent);
  reads.push("SET", "a", "1").push("GET", "a");
  EXPECT_FALSE(reads.flags().idempotent);

  Request subscribe;
  subscribe.push("SUBSCRIBE", "a").push("PSUBSCRIBE", "b*");
  EXPECT_TRUE(subscribe.flags().no_reply);
  EXPECT_EQ(subscribe.expected_replies(), 0u);
  subscribe.push("PING");
  EXPECT_FALSE(subscribe.flags().no_reply);
  EXPECT_EQ(subscribe.expected_replies(), 1u);
  EXPECT_EQ(subscribe.commands(), 3u);

  Request mixed;
  mixed.push("GET", "a").push("BLPOP", "q", 1).push("GET", "b");
  EXPECT_TRUE(mixed.flags().exclusive);
}

TEST(RequestTest, CallerMaySetFlagsAfterPushing) {
  Request req;
  req.push("CLIENT", "TRACKING", "on");
  EXPECT_FALSE(req.flags().exclusive);
  req.flags().exclusive = true;
  EXPECT_TRUE(std::as_const(req).flags().exclusive);
}

}  // namespace
}  // namespace tiercache::resp
