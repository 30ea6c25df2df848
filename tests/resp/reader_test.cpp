#include "tiercache/resp/reader.hpp"

#include "tiercache/resp/error.hpp"

#include "tests/resp/tree.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::resp {
namespace {

using testing::describe;

// What a reader makes of some bytes: the replies it returned (described) and how it stopped.
struct Outcome {
  std::vector<std::string> replies;
  error_code error;
  std::size_t buffered = 0;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

void drain(Reader& reader, Outcome& out) {
  for (;;) {
    auto r = reader.next();
    if (r.has_error()) {
      out.error = r.error();
      return;
    }
    if (!*r) return;
    out.replies.push_back(describe(**r));
  }
}

// Feeds `bytes` cut at the given offsets (ascending), draining after every piece.
Outcome decode(std::string_view bytes, const std::vector<std::size_t>& cuts = {},
               ReaderLimits limits = {}) {
  Reader reader(limits);
  Outcome out;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    reader.feed(bytes.substr(from, cut - from));
    drain(reader, out);
    from = cut;
  }
  reader.feed(bytes.substr(from));
  drain(reader, out);
  out.buffered = reader.buffered();
  return out;
}

// Every split into two pieces, every split into three, and byte by byte: all give `expected`.
void expect_same_at_every_split(std::string_view bytes, const Outcome& expected,
                                ReaderLimits limits = {}) {
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    ASSERT_EQ(decode(bytes, {i}, limits), expected) << "split at " << i;
    if (bytes.size() > 64) continue;
    for (std::size_t j = i; j <= bytes.size(); ++j) {
      ASSERT_EQ(decode(bytes, {i, j}, limits), expected) << "split at " << i << ", " << j;
    }
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  ASSERT_EQ(decode(bytes, every, limits), expected) << "byte by byte";
}

struct TypeCase {
  const char* name;
  std::string_view bytes;
  std::string_view tree;
};

class ReaderTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(ReaderTypeTest, DecodesTheSameTreeWhenSplitAtEveryOffset) {
  const Outcome expected{{std::string(GetParam().tree)}, {}, 0};
  EXPECT_EQ(decode(GetParam().bytes), expected);
  expect_same_at_every_split(GetParam().bytes, expected);
}

using namespace std::string_view_literals;
const TypeCase kTypes[] = {
    {"SimpleString", "+OK\r\n", R"(+"OK")"},
    {"SimpleStringWithLoneCr", "+a\rb\r\n", R"(+"a\x0db")"},
    {"SimpleError", "-ERR unknown command\r\n", R"(-"ERR unknown command")"},
    {"Integer", ":42\r\n", ":42"},
    {"NegativeInteger", ":-9223372036854775808\r\n", ":-9223372036854775808"},
    {"IntegerWithPlus", ":+9223372036854775807\r\n", ":9223372036854775807"},
    {"Double", ",3.25\r\n", R"(,"3.25"=3.25)"},
    {"DoubleExponent", ",-1.5e-3\r\n", R"(,"-1.5e-3"=-0.0015)"},
    {"DoubleInf", ",inf\r\n", R"(,"inf"=inf)"},
    {"DoubleNegativeInf", ",-inf\r\n", R"(,"-inf"=-inf)"},
    {"DoubleNan", ",nan\r\n", R"(,"nan"=nan)"},
    {"DoubleOverflowIsInf", ",1e999\r\n", R"(,"1e999"=inf)"},
    {"True", "#t\r\n", "#t"},
    {"False", "#f\r\n", "#f"},
    {"BigNumber", "(-3492890328409238509324850943850943825024385\r\n",
     R"(("-3492890328409238509324850943850943825024385")"},
    {"Null", "_\r\n", "_"},
    {"NilBulk", "$-1\r\n", "_"},
    {"NilArray", "*-1\r\n", "_"},
    {"BlobString", "$5\r\nhello\r\n", R"($"hello")"},
    {"EmptyBlobString", "$0\r\n\r\n", R"($"")"},
    {"BinaryBlobString", "$6\r\na\r\n\0b\r\r\n"sv, R"($"a\x0d\x0a\x00b\x0d")"},
    {"BlobError", "!21\r\nSYNTAX invalid syntax\r\n", R"(!"SYNTAX invalid syntax")"},
    {"VerbatimString", "=15\r\ntxt:Some string\r\n", R"(="Some string")"},
    {"EmptyArray", "*0\r\n", "*0[]"},
    {"Array", "*3\r\n:1\r\n$1\r\na\r\n_\r\n", R"(*3[:1 $"a" _])"},
    {"Map", "%2\r\n+first\r\n:1\r\n+second\r\n#f\r\n", R"(%4[+"first" :1 +"second" #f])"},
    {"Set", "~2\r\n+a\r\n,1\r\n", R"(~2[+"a" ,"1"=1])"},
    {"Push", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nfoo\r\n", R"(>2[$"invalidate" *1[$"foo"]])"},
    {"Nested", "*2\r\n*1\r\n*0\r\n%1\r\n~0\r\n*1\r\n_\r\n", "*2[*1[*0[]] %2[~0[] *1[_]]]"},
    {"Attribute",
     "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
     "*2\r\n:2039123\r\n:9543892\r\n",
     R"(|2[+"key-popularity" %4[$"a" ,"0.1923"=0.1923 $"b" ,"0.0012"=0.0011999999999999999]] )"
     "*2[:2039123 :9543892]"},
    {"AttributeInsideArray", "*2\r\n|1\r\n+ttl\r\n:3\r\n:1\r\n:2\r\n",
     R"(*2[|2[+"ttl" :3] :1 :2])"},
    {"EmptyAttribute", "|0\r\n+OK\r\n", R"(|0[] +"OK")"},
};
INSTANTIATE_TEST_SUITE_P(AllTypes, ReaderTypeTest, ::testing::ValuesIn(kTypes),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

struct ErrorCase {
  const char* name;
  std::string_view bytes;
  Errc error;
  ReaderLimits limits = {};
};

class ReaderErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ReaderErrorTest, FailsWithTheSameErrorWhenSplitAtEveryOffset) {
  const Outcome expected{{"+\"before\""}, GetParam().error, 0};
  const std::string bytes = "+before\r\n" + std::string(GetParam().bytes);
  Outcome whole = decode(bytes, {}, GetParam().limits);
  whole.buffered = 0;
  EXPECT_EQ(whole, expected) << whole.error.message();
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    Outcome split = decode(bytes, {i}, GetParam().limits);
    split.buffered = 0;
    ASSERT_EQ(split, expected) << "split at " << i;
  }
}

constexpr ReaderLimits kSmall{.max_depth = 2, .max_elements = 4, .max_bulk = 8, .max_line = 8};
const ErrorCase kErrors[] = {
    {"UnknownTypeByte", "?\r\n", Errc::invalid_type_byte},
    {"UnknownTypeByteBeforeItsLineEnds", "x", Errc::invalid_type_byte},
    {"UnknownTypeByteInArray", "*2\r\n:1\r\nhello\r\n", Errc::invalid_type_byte},
    {"LengthNotANumber", "$abc\r\n", Errc::invalid_length},
    {"LengthEmpty", "*\r\n", Errc::invalid_length},
    {"LengthNegative", "*-2\r\n", Errc::invalid_length},
    {"NilMap", "%-1\r\n", Errc::invalid_length},
    {"NilBlobError", "!-1\r\n", Errc::invalid_length},
    {"StreamedString", "$?\r\n;4\r\nHell\r\n;0\r\n", Errc::invalid_length},
    {"IntegerNotANumber", ":12a\r\n", Errc::invalid_integer},
    {"IntegerEmpty", ":\r\n", Errc::invalid_integer},
    {"IntegerOverflow", ":9223372036854775808\r\n", Errc::invalid_integer},
    {"IntegerUnderflow", ":-9223372036854775809\r\n", Errc::invalid_integer},
    {"BigNumberNotANumber", "(12x\r\n", Errc::invalid_integer},
    {"DoubleNotANumber", ",abc\r\n", Errc::invalid_double},
    {"DoubleEmpty", ",\r\n", Errc::invalid_double},
    {"DoubleTrailingBytes", ",1.5x\r\n", Errc::invalid_double},
    {"BooleanNeitherTNorF", "#x\r\n", Errc::invalid_boolean},
    {"BooleanTooLong", "#tt\r\n", Errc::invalid_boolean},
    {"NullWithPayload", "_x\r\n", Errc::invalid_null},
    {"BulkWithoutCrlf", "$3\r\nabcXY", Errc::missing_crlf},
    {"BulkLongerThanAnnounced", "$3\r\nabcd\r\n", Errc::missing_crlf},
    {"VerbatimTooShort", "=3\r\ntxt\r\n", Errc::invalid_verbatim},
    {"VerbatimWithoutColon", "=5\r\ntxtab\r\n", Errc::invalid_verbatim},
    {"TooDeep", "*1\r\n*1\r\n*1\r\n:1\r\n", Errc::limit_exceeded, kSmall},
    {"TooManyElements", "*5\r\n", Errc::limit_exceeded, kSmall},
    {"TooManyMapEntries", "%3\r\n", Errc::limit_exceeded, kSmall},
    {"BulkTooLarge", "$9\r\n", Errc::limit_exceeded, kSmall},
    {"LineTooLong", "+123456789\r\n", Errc::limit_exceeded, kSmall},
    {"LineTooLongWithoutCrlf", "+1234567890", Errc::limit_exceeded, kSmall},
    {"LengthOverflow", "$99999999999999999999999\r\n", Errc::limit_exceeded},
};
INSTANTIATE_TEST_SUITE_P(AllErrors, ReaderErrorTest, ::testing::ValuesIn(kErrors),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ReaderTest, AcceptsValuesExactlyAtTheLimits) {
  const std::string bytes = "*2\r\n*4\r\n:1\r\n:2\r\n:3\r\n$8\r\n12345678\r\n+12345678\r\n";
  const Outcome expected{{R"(*2[*4[:1 :2 :3 $"12345678"] +"12345678"])"}, {}, 0};
  expect_same_at_every_split(bytes, expected, kSmall);
}

TEST(ReaderTest, ReturnsPipelinedRepliesOneByOne) {
  const std::string bytes = "+OK\r\n:1\r\n$3\r\nfoo\r\n*1\r\n_\r\n>1\r\n+x\r\n+O";
  const Outcome expected{{R"(+"OK")", ":1", R"($"foo")", "*1[_]", R"(>1[+"x"])"}, {}, 2};
  EXPECT_EQ(decode(bytes), expected);
  expect_same_at_every_split(bytes, expected);
}

TEST(ReaderTest, StaysFailedUntilReset) {
  Reader reader;
  reader.feed("#x\r\n");
  EXPECT_EQ(reader.next().error(), Errc::invalid_boolean);
  reader.feed("+OK\r\n");
  EXPECT_EQ(reader.next().error(), Errc::invalid_boolean);
  EXPECT_EQ(reader.error(), Errc::invalid_boolean);
  reader.reset();
  EXPECT_FALSE(reader.error());
  EXPECT_EQ(reader.buffered(), 0u);
  reader.feed("+OK\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->str(), "OK");
}

TEST(ReaderTest, ResetForgetsAHalfReadReply) {
  Reader reader;
  reader.feed("*2\r\n:1\r\n$10\r\nabc");
  ASSERT_FALSE(reader.next().value());
  reader.reset();
  reader.feed(":7\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->integer(), 7);
}

TEST(ReaderTest, ErrorMessagesReadAsSentences) {
  for (int e = 1; e <= static_cast<int>(Errc::limit_exceeded); ++e) {
    const error_code ec = static_cast<Errc>(e);
    EXPECT_EQ(ec.category().name(), std::string_view("tiercache.resp"));
    EXPECT_EQ(ec.message().rfind("RESP: ", 0), 0u) << e;
  }
}

TEST(ReaderTest, ViewsStayValidUntilTheNextCallAndCopiesOutliveThem) {
  Reader reader;
  reader.feed("*2\r\n$5\r\nhello\r\n+world\r\n:1\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r && *r);
  const ReplyView view = **r;
  EXPECT_EQ(reader.buffered(), 4u);
  EXPECT_EQ(view.at(0).str(), "hello");  // buffered() did not disturb it
  const Reply kept(view);
  EXPECT_EQ(kept, view);
  auto second = reader.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->integer(), 1);
  for (int i = 0; i < 1000; ++i) reader.feed(std::string(1000, 'x'));  // the buffer moves
  EXPECT_EQ(kept.at(0).str(), "hello");
  EXPECT_EQ(kept.at(1).str(), "world");
}

TEST(ReaderTest, PrepareGrowsToFitAnAnnouncedBulkSoItArrivesInOneRead) {
  constexpr std::size_t kSize = std::size_t{64} << 20;
  Reader reader;
  const std::string header = "$" + std::to_string(kSize) + "\r\n";
  auto space = reader.prepare(4096);
  std::memcpy(space.data(), header.data(), header.size());
  reader.commit(header.size());
  ASSERT_FALSE(reader.next().value());

  space = reader.prepare(4096);
  ASSERT_GE(space.size(), kSize + 2);  // one read can take the rest
  const char* const where = space.data();
  std::size_t received = 0;
  while (received < kSize) {  // 1 MiB reads, as a socket would hand them over
    space = reader.prepare(1 << 20);
    EXPECT_EQ(space.data(), where + received) << "the buffer moved during the bulk";
    const std::size_t n = std::min<std::size_t>(1 << 20, kSize - received);
    std::memset(space.data(), static_cast<int>('a' + (received >> 20) % 26), n);
    reader.commit(n);
    received += n;
    ASSERT_FALSE(reader.next().value());
  }
  reader.feed("\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r && *r);
  ASSERT_EQ((*r)->type(), Type::blob_string);
  const std::string_view s = (*r)->str();
  ASSERT_EQ(s.size(), kSize);
  EXPECT_EQ(s.front(), 'a');
  EXPECT_EQ(s[5 << 20], 'f');
  EXPECT_EQ(s.back(), static_cast<char>('a' + 63 % 26));
}

TEST(ReaderTest, KeepsItsBufferSmallWhileStreamingManyReplies) {
  // 200k replies in 7-byte reads: compaction keeps the buffer near its initial size.
  std::string stream;
  for (int i = 0; i < 1000; ++i) stream += "*2\r\n$3\r\nabc\r\n:" + std::to_string(i) + "\r\n";
  Reader reader;
  std::size_t replies = 0;
  std::size_t largest = 0;
  for (int round = 0; round < 200; ++round) {
    for (std::size_t at = 0; at < stream.size(); at += 7) {
      const std::size_t n = std::min<std::size_t>(7, stream.size() - at);
      auto space = reader.prepare(n);
      largest = std::max(largest, space.size());
      std::memcpy(space.data(), stream.data() + at, n);
      reader.commit(n);
      for (auto r = reader.next(); r && *r; r = reader.next()) ++replies;
    }
  }
  EXPECT_EQ(replies, 200'000u);
  EXPECT_LE(largest, std::size_t{64} << 10);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(ReaderTest, DecodesDeepNestingUpToTheDepthLimit) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) bytes += "*1\r\n";
  bytes += ":1\r\n";
  auto deep = decode(bytes);
  ASSERT_EQ(deep.replies.size(), 1u);
  EXPECT_FALSE(deep.error);
  EXPECT_EQ(decode("*1\r\n" + bytes).error, Errc::limit_exceeded);
}

TEST(ReaderTest, NodesAreWellFormedForANestedReply) {
  Reader reader;
  reader.feed("*3\r\n%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n|1\r\n+a\r\n+b\r\n$1\r\nx\r\n_\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r && *r);
  const auto nodes = (*r)->nodes();
  ASSERT_EQ(nodes.size(), 11u);
  EXPECT_EQ(nodes[0].span, 11u);
  EXPECT_EQ(nodes[0].size, 3u);
  EXPECT_EQ(nodes[1].type, Type::map);
  EXPECT_EQ(nodes[1].size, 2u);
  EXPECT_EQ(nodes[1].span, 5u);
  EXPECT_EQ(nodes[3].depth, 2u);
  EXPECT_EQ(nodes[4].depth, 3u);
  EXPECT_EQ(nodes[6].type, Type::attribute);
  EXPECT_EQ(nodes[6].depth, 1u);
  EXPECT_EQ(nodes[6].span, 3u);
  EXPECT_EQ(nodes[9].type, Type::blob_string);
  EXPECT_EQ(std::string_view((*r)->base() + nodes[9].offset, nodes[9].length), "x");
  EXPECT_EQ((*r)->at(1).str(), "x");
  EXPECT_EQ((*r)->at(1).attribute().at(1).str(), "b");
}

}  // namespace
}  // namespace tiercache::resp
