#include "tiercache/resp/reply.hpp"

#include "tiercache/resp/reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::resp {
namespace {

// Decodes one reply and keeps it.
Reply parse(std::string_view bytes) {
  Reader reader;
  reader.feed(bytes);
  auto r = reader.next();
  EXPECT_TRUE(r && *r) << bytes;
  return r && *r ? Reply(**r) : Reply();
}

void expect_reads_as_null(ReplyView v) {
  EXPECT_EQ(v.type(), Type::null);
  EXPECT_TRUE(v.is_null());
  EXPECT_FALSE(v.is_error());
  EXPECT_FALSE(v.is_aggregate());
  EXPECT_EQ(v.size(), 0u);
  EXPECT_EQ(v.str(), "");
  EXPECT_EQ(v.integer(), 0);
  EXPECT_TRUE(std::isnan(v.number()));
  EXPECT_TRUE(v.begin() == v.end());
  EXPECT_TRUE(v.at(0).is_null());
  EXPECT_TRUE(v.attribute().is_null());
  EXPECT_EQ(to_display(v), "nil");
}

TEST(ReplyTest, DefaultReplyReadsAsNull) {
  const Reply reply;
  expect_reads_as_null(reply);
  EXPECT_EQ(reply.view().nodes().size(), 0u);
}

TEST(ReplyTest, EmptyViewReadsAsNull) { expect_reads_as_null(ReplyView()); }

TEST(ReplyTest, CopyOfAnElementKeepsOnlyItsBytes) {
  const Reply whole = parse("*3\r\n$3\r\nabc\r\n$5\r\nhello\r\n:1\r\n");
  const Reply hello(whole.at(1));
  EXPECT_EQ(hello.bytes(), "hello");
  EXPECT_EQ(hello.str(), "hello");
  EXPECT_EQ(hello.view().nodes()[0].depth, 0u);
  EXPECT_EQ(hello.view().nodes()[0].offset, 0u);
  EXPECT_EQ(hello, whole.at(1));
  EXPECT_EQ(Reply(whole.at(2)).bytes(), "");
  EXPECT_EQ(Reply(whole.at(2)).integer(), 1);
}

TEST(ReplyTest, CopyOfAnAggregateSpansFromItsFirstToItsLastPayload) {
  const Reply whole = parse("*2\r\n:7\r\n*2\r\n$2\r\nab\r\n+cd\r\n");
  const Reply inner(whole.at(1));
  EXPECT_EQ(inner.bytes(), "ab\r\n+cd");
  EXPECT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner.at(0).str(), "ab");
  EXPECT_EQ(inner.at(1).str(), "cd");
  EXPECT_EQ(inner, whole.at(1));
}

TEST(ReplyTest, CopiesCompareEqualAndDifferentPayloadsDoNot) {
  const Reply a = parse("*2\r\n$3\r\nfoo\r\n:1\r\n");
  const Reply b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == parse("*2\r\n$3\r\nfoo\r\n:2\r\n"));
  EXPECT_FALSE(a == parse("*2\r\n$3\r\nfoe\r\n:1\r\n"));
  EXPECT_FALSE(a == parse("*2\r\n+foo\r\n:1\r\n"));
  EXPECT_FALSE(a == parse("*1\r\n$3\r\nfoo\r\n"));
  EXPECT_FALSE(a == parse("|0\r\n*2\r\n$3\r\nfoo\r\n:1\r\n"));
}

TEST(ReplyTest, ArrayOfMakesASyntheticArrayOfItsElements) {
  const std::vector<Reply> elements = {parse("+OK\r\n"), parse(":42\r\n"), Reply(),
                                       parse("*2\r\n$1\r\na\r\n$2\r\nbc\r\n")};
  const Reply all = Reply::array_of(elements);
  EXPECT_EQ(all.type(), Type::array);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.at(0).str(), "OK");
  EXPECT_EQ(all.at(1).integer(), 42);
  EXPECT_TRUE(all.at(2).is_null());
  EXPECT_EQ(all.at(3).size(), 2u);
  EXPECT_EQ(all.at(3).at(1).str(), "bc");
  EXPECT_EQ(all.bytes(), "OKa\r\n$2\r\nbc");
  EXPECT_EQ(all.view().nodes()[0].span, all.view().nodes().size());
  EXPECT_EQ(to_display(all), R"(["OK", 42, nil, ["a", "bc"]])");
  EXPECT_EQ(Reply::array_of({}).size(), 0u);
}

TEST(ReplyTest, AttributesAreInvisibleToSizeIterationAndAt) {
  const Reply reply = parse("*3\r\n|1\r\n+ttl\r\n:3\r\n:1\r\n:2\r\n|1\r\n+a\r\n+b\r\n:3\r\n");
  EXPECT_EQ(reply.size(), 3u);
  std::vector<std::int64_t> values;
  for (const ReplyView e : reply) values.push_back(e.integer());
  EXPECT_EQ(values, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(reply.at(0).integer(), 1);
  EXPECT_EQ(reply.at(2).integer(), 3);
  EXPECT_TRUE(reply.at(3).is_null());
  EXPECT_TRUE(reply.attribute().is_null());
  EXPECT_TRUE(reply.at(1).attribute().is_null());
}

TEST(ReplyTest, AttributeReturnsTheMapInFrontOfItsValue) {
  const Reply reply = parse("*1\r\n|1\r\n+ttl\r\n:3\r\n:1\r\n");
  const ReplyView attr = reply.at(0).attribute();
  EXPECT_EQ(attr.type(), Type::attribute);
  ASSERT_EQ(attr.size(), 2u);
  EXPECT_EQ(attr.at(0).str(), "ttl");
  EXPECT_EQ(attr.at(1).integer(), 3);
  EXPECT_TRUE(attr.attribute().is_null());
  EXPECT_EQ(Reply(reply.at(0)).attribute().at(0).str(), "ttl");  // a copy keeps it
}

TEST(ReplyTest, TopLevelAttributeAnnotatesTheReply) {
  const Reply reply = parse("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.5\r\n*2\r\n:1\r\n:2\r\n");
  EXPECT_EQ(reply.type(), Type::array);
  EXPECT_EQ(reply.size(), 2u);
  EXPECT_EQ(reply.at(1).integer(), 2);
  EXPECT_EQ(reply.attribute().at(1).at(1).number(), 0.5);
  EXPECT_EQ(to_display(reply), R"((attr {"key-popularity": {"a": 0.5}}) [1, 2])");
}

TEST(ReplyTest, MapIteratesKeysAndValuesInTurn) {
  const Reply reply = parse("%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n:2\r\n");
  EXPECT_EQ(reply.size(), 4u);
  auto it = reply.begin();
  EXPECT_EQ((*it++).str(), "a");
  EXPECT_EQ((*it++).integer(), 1);
  EXPECT_EQ((*it).str(), "b");
  ++it;
  EXPECT_EQ((*it).at(0).integer(), 2);
  EXPECT_TRUE(++it == reply.end());
}

TEST(ReplyTest, StrGivesTheTextOfStringLikeTypes) {
  EXPECT_EQ(parse("=15\r\ntxt:Some string\r\n").str(), "Some string");
  EXPECT_EQ(parse("!5\r\nERR x\r\n").str(), "ERR x");
  EXPECT_EQ(parse("(123\r\n").str(), "123");
  EXPECT_EQ(parse(",1.5\r\n").str(), "1.5");
  EXPECT_EQ(parse(":5\r\n").str(), "");
  EXPECT_EQ(parse("*1\r\n+a\r\n").str(), "");
}

TEST(ReplyTest, ErrorsAreValues) {
  EXPECT_TRUE(parse("-ERR wrong\r\n").is_error());
  EXPECT_TRUE(parse("!3\r\nERR\r\n").is_error());
  EXPECT_FALSE(parse("+ERR\r\n").is_error());
  EXPECT_EQ(to_display(parse("-ERR wrong\r\n")), "(error) ERR wrong");
}

TEST(ReplyTest, NumberReadsDoublesIntegersAndNumericStrings) {
  EXPECT_EQ(parse(",3.25\r\n").number(), 3.25);
  EXPECT_EQ(parse(",-inf\r\n").number(), -INFINITY);
  EXPECT_TRUE(std::isnan(parse(",nan\r\n").number()));
  EXPECT_EQ(parse(":-7\r\n").number(), -7.0);
  EXPECT_EQ(parse("$4\r\n2.50\r\n").number(), 2.5);
  EXPECT_EQ(parse("+inf\r\n").number(), INFINITY);
  EXPECT_TRUE(std::isnan(parse("$3\r\nabc\r\n").number()));
  EXPECT_TRUE(std::isnan(parse("$0\r\n\r\n").number()));
  EXPECT_TRUE(std::isnan(parse("#t\r\n").number()));
}

TEST(ReplyTest, BooleansAndIntegersAreParsedOnce) {
  EXPECT_TRUE(parse("#t\r\n").boolean());
  EXPECT_FALSE(parse("#f\r\n").boolean());
  EXPECT_EQ(parse(":9223372036854775807\r\n").integer(), INT64_MAX);
}

TEST(ReplyTest, DisplayRendersEveryTypeReadably) {
  EXPECT_EQ(to_display(parse("*3\r\n$1\r\na\r\n:1\r\n$-1\r\n")), R"(["a", 1, nil])");
  EXPECT_EQ(to_display(parse("~2\r\n#t\r\n#f\r\n")), "~[true, false]");
  EXPECT_EQ(to_display(parse(">2\r\n+invalidate\r\n*1\r\n+k\r\n")), R"(>["invalidate", ["k"]])");
  EXPECT_EQ(to_display(parse("%1\r\n+k\r\n,2.5\r\n")), R"({"k": 2.5})");
  EXPECT_EQ(to_display(parse("$5\r\na\r\n\"\x01\r\n")), R"("a\r\n\"\x01")");
  EXPECT_EQ(to_display(parse("(12\r\n")), "12");
  std::ostringstream os;
  os << parse("+OK\r\n").view() << ' ' << Type::blob_error;
  EXPECT_EQ(os.str(), R"("OK" blob_error)");
}

TEST(ReplyTest, EveryTypeHasAName) {
  const std::vector<std::string_view> names = {
      "simple_string", "simple_error", "integer",     "double",     "boolean",
      "big_number",    "null",         "blob_string", "blob_error", "verbatim_string",
      "array",         "map",          "set",         "attribute",  "push"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto type = static_cast<Type>(i);
    EXPECT_EQ(to_string(type), names[i]);
    EXPECT_EQ(is_aggregate(type), i >= static_cast<std::size_t>(Type::array));
  }
}

TEST(ReplyTest, OutOfRangeAtGivesAnEmptyView) {
  const Reply reply = parse("*1\r\n:1\r\n");
  EXPECT_TRUE(reply.at(1).is_null());
  EXPECT_TRUE(reply.at(1).nodes().empty());
  EXPECT_TRUE(parse(":1\r\n").at(0).is_null());
}

}  // namespace
}  // namespace tiercache::resp
