// PrebuiltResponse: the head it writes, read back by Beast's own response parser (the oracle:
// what any HTTP client reads), and the fields it refuses.

#include "server/prebuilt_response.hpp"

#include "server/reply.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tiercache::server {
namespace {

Request request(unsigned version, bool keep_alive) {
  Request req{http::verb::get, "/", version};
  req.keep_alive(keep_alive);
  return req;
}

// The response a client reads from head + body, or a failed test.
Response read_back(const PrebuiltResponse& res) {
  std::string wire;
  res.write_head(wire);
  wire.append(res.body());
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message() << " in:\n" << wire;
  EXPECT_EQ(used, wire.size()) << wire;
  EXPECT_TRUE(parser.is_done()) << wire;
  return parser.release();
}

TEST(PrebuiltResponseTest, WritesStatusFieldsLengthAndBodyAsAClientReadsThem) {
  auto bytes = std::make_shared<const std::string>("{\"city\":\"Paris\"}");
  PrebuiltResponse res(http::status::ok, request(11, true));
  EXPECT_TRUE(res.field("Content-Type", "application/json"));
  EXPECT_TRUE(res.field("X-Cache", "HIT"));
  EXPECT_TRUE(res.field("Age", "7"));
  res.body(bytes, *bytes);
  const Response got = read_back(res);
  EXPECT_EQ(got.result(), http::status::ok);
  EXPECT_EQ(got.version(), 11u);
  EXPECT_EQ(got[http::field::content_type], "application/json");
  EXPECT_EQ(got["X-Cache"], "HIT");
  EXPECT_EQ(got[http::field::age], "7");
  EXPECT_EQ(got[http::field::content_length], std::to_string(bytes->size()));
  EXPECT_EQ(got.body(), *bytes);
  EXPECT_TRUE(got.keep_alive());
  EXPECT_EQ(got.count(http::field::connection), 0u);  // HTTP/1.1 persists unless told
}

TEST(PrebuiltResponseTest, ConnectionFollowsTheVersionAsBeastWould) {
  struct Case {
    unsigned version;
    bool keep_alive;
    const char* connection;  // the field written, "" for none
  };
  for (const Case c : {Case{11, true, ""}, Case{11, false, "close"}, Case{10, true, "keep-alive"},
                       Case{10, false, ""}}) {
    PrebuiltResponse res(http::status::ok, request(c.version, c.keep_alive));
    EXPECT_EQ(res.keep_alive(), c.keep_alive);
    const Response got = read_back(res);
    EXPECT_EQ(got.version(), c.version);
    EXPECT_EQ(got.keep_alive(), c.keep_alive) << c.version << " " << c.keep_alive;
    EXPECT_EQ(std::string(got[http::field::connection]), c.connection);
    EXPECT_EQ(got[http::field::content_length], "0");
  }
  // A server that is stopping closes a kept-alive connection after the answer.
  PrebuiltResponse res(http::status::ok, request(11, true));
  res.keep_alive(false);
  EXPECT_FALSE(read_back(res).keep_alive());
}

TEST(PrebuiltResponseTest, RefusesFieldsThatWouldBreakTheHeaderBlock) {
  PrebuiltResponse res(http::status::not_found, request(11, true));
  EXPECT_FALSE(res.field("X-Evil", "a\r\nSet-Cookie: stolen=1"));
  EXPECT_FALSE(res.field("X-Evil", "a\nb"));
  EXPECT_FALSE(res.field("X-Evil", std::string("a\0b", 3)));
  EXPECT_FALSE(res.field("", "empty name"));
  EXPECT_FALSE(res.field("Bad Name", "space in the name"));
  EXPECT_FALSE(res.field("Bad:Name", "colon in the name"));
  EXPECT_TRUE(res.field("X-Fine", ""));  // an empty value is a value
  EXPECT_TRUE(res.field("X-Tchars!#$%&'*+-.^_`|~", "v"));
  const Response got = read_back(res);
  EXPECT_EQ(got.result(), http::status::not_found);
  EXPECT_EQ(got.count("Set-Cookie"), 0u);
  EXPECT_EQ(got.count("X-Evil"), 0u);
  EXPECT_EQ(got["X-Fine"], "");
  EXPECT_EQ(got["X-Tchars!#$%&'*+-.^_`|~"], "v");
  EXPECT_EQ(std::distance(got.begin(), got.end()), 3);  // the two kept and Content-Length
}

TEST(PrebuiltResponseTest, KeepsItsBodyAliveAndReportsThroughReply) {
  std::weak_ptr<const std::string> watch;
  Reply reply = Response{http::status::no_content, 11};
  EXPECT_EQ(status_of(reply), 204u);
  {
    auto bytes = std::make_shared<const std::string>(2000, 'x');
    watch = bytes;
    PrebuiltResponse res(http::status::accepted, request(11, true));
    res.body(bytes, std::string_view(*bytes).substr(10));
    reply = std::move(res);
  }
  EXPECT_FALSE(watch.expired());  // the reply holds the bytes its body views
  EXPECT_EQ(status_of(reply), 202u);
  EXPECT_EQ(body_size(reply), 1990u);
  reply = Response{};
  EXPECT_TRUE(watch.expired());
}

TEST(PrebuiltResponseTest, AsABeastMessageItReadsAsOnTheWire) {
  auto bytes = std::make_shared<const std::string>("[1,2,3]");
  PrebuiltResponse res(http::status::not_found, request(10, true));
  res.field("Content-Type", "application/json");
  res.field("X-Cache", "STALE");
  res.field("X-Empty", "");
  res.body(bytes, *bytes);
  const Response message = to_message(Reply(res));
  const Response wire = read_back(res);
  EXPECT_EQ(message.result(), wire.result());
  EXPECT_EQ(message.version(), wire.version());
  EXPECT_EQ(message.keep_alive(), wire.keep_alive());
  EXPECT_EQ(message.body(), wire.body());
  for (const char* name : {"Content-Type", "X-Cache", "X-Empty", "Content-Length", "Connection"})
    EXPECT_EQ(message[name], wire[name]) << name;
  EXPECT_EQ(std::distance(message.begin(), message.end()), std::distance(wire.begin(), wire.end()));
}

TEST(PrebuiltResponseTest, OnlyStatusesWithABodyArePrebuilt) {
  EXPECT_TRUE(PrebuiltResponse::carries_body(200));
  EXPECT_TRUE(PrebuiltResponse::carries_body(404));
  EXPECT_TRUE(PrebuiltResponse::carries_body(599));
  EXPECT_FALSE(PrebuiltResponse::carries_body(100));
  EXPECT_FALSE(PrebuiltResponse::carries_body(204));
  EXPECT_FALSE(PrebuiltResponse::carries_body(304));
  EXPECT_FALSE(PrebuiltResponse::carries_body(600));
}

}  // namespace
}  // namespace tiercache::server
