// The request queue without sockets: bytes out, replies in, events, and time as values.

#include "redis/multiplexer.hpp"

#include "tiercache/redis/error.hpp"
#include "tiercache/resp/reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tiercache::redis::detail {
namespace {

using namespace std::chrono_literals;
using Clock = Multiplexer::Clock;

struct Outcome {
  bool done = false;
  error_code ec;
  std::string reply;  // to_display of the reply
};

// Feeds RESP bytes through a real Reader and each reply to the multiplexer.
class MultiplexerTest : public ::testing::Test {
 protected:
  // The queue never runs a handler; its executor (an io_context nobody runs) is never used.
  template <class F>
  Multiplexer::Handler handler_of(F f) {
    return Multiplexer::Handler(std::move(f), io_.get_executor());
  }
  std::shared_ptr<Outcome> add(resp::Request req, Clock::duration timeout = 1s) {
    auto out = std::make_shared<Outcome>();
    Multiplexer::Handler h = handler_of([out](error_code ec, resp::Reply r) {
      out->done = true;
      out->ec = ec;
      out->reply = resp::to_display(r);
    });
    auto id = mux_.add(req, h, t0_ + timeout);
    if (!id) {
      out->done = true;
      out->ec = id.error();
    } else {
      last_id_ = *id;
    }
    return out;
  }
  static resp::Request cmd(std::string_view name, std::string_view arg = {}) {
    resp::Request r;
    if (arg.empty()) {
      r.push(name);
    } else {
      r.push(name, arg);
    }
    return r;
  }
  std::vector<Multiplexer::ReplyKind> feed(std::string_view bytes, bool resp3 = true) {
    reader_.feed(bytes);
    std::vector<Multiplexer::ReplyKind> kinds;
    for (;;) {
      auto next = reader_.next();
      EXPECT_TRUE(next.has_value());
      if (!next || !*next) break;
      kinds.push_back(mux_.on_reply(**next, resp3));
    }
    run_completions();
    return kinds;
  }
  void run_completions() {
    auto ready = std::move(mux_.completions());
    mux_.completions().clear();
    for (auto& c : ready) std::move(c.handler)(c.ec, std::move(c.reply));
  }
  static std::string joined(std::span<const std::string_view> pieces) {
    std::string bytes;
    for (const auto piece : pieces) bytes += piece;
    return bytes;
  }
  std::string write(std::size_t gather_min = Multiplexer::kCopyAll) {
    std::string bytes = joined(mux_.prepare_write(t0_, gather_min));
    mux_.on_written();
    run_completions();
    return bytes;
  }

  boost::asio::io_context io_;
  Multiplexer mux_{16};
  resp::Reader reader_;
  Clock::time_point t0_ = Clock::now();
  Multiplexer::Id last_id_ = 0;
};

TEST_F(MultiplexerTest, CoalescesEveryWaitingRequestIntoOneWrite) {
  auto a = add(cmd("GET", "a"));
  auto b = add(cmd("GET", "b"));
  auto c = add(cmd("PING"));
  EXPECT_TRUE(mux_.has_waiting());
  EXPECT_EQ(write(),
            "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n");
  EXPECT_FALSE(mux_.has_waiting());
  EXPECT_EQ(mux_.written(), 3u);
}

TEST_F(MultiplexerTest, GathersLargePayloadsFromWhereTheyLieAndCopiesTheRest) {
  const std::string big(4096, 'v');
  resp::Request set;
  set.push("SET", "k", big);
  const std::string set_bytes(set.payload());
  const char* const set_at = set.payload().data();
  add(cmd("GET", "a"));
  add(cmd("GET", "b"));
  add(std::move(set));
  add(cmd("GET", "c"));
  const auto pieces = mux_.prepare_write(t0_, 1024);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0], "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  EXPECT_EQ(pieces[1], set_bytes);
  EXPECT_EQ(pieces[1].data(), set_at);  // not copied
  EXPECT_EQ(pieces[2], "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
  EXPECT_EQ(mux_.written(), 4u);
}

TEST_F(MultiplexerTest, CopiesEverythingIntoOnePieceWhenTold) {
  add(cmd("GET", "a"));
  add(cmd("SET", std::string(4096, 'v')));
  const auto pieces = mux_.prepare_write(t0_, Multiplexer::kCopyAll);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].size(), 20u + 22u + 4096u);
}

TEST_F(MultiplexerTest, CopiesARequestKeptForARetry) {
  Multiplexer mux(16, true);
  auto read = cmd("GET", std::string(4096, 'k'));
  read.flags().idempotent = true;
  const char* const at = read.payload().data();
  auto h = handler_of([](error_code, resp::Reply) {});
  ASSERT_TRUE(mux.add(read, h, t0_ + 1s));
  const auto pieces = mux.prepare_write(t0_, 1024);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_NE(pieces[0].data(), at);  // the entry keeps its own, which may move
  EXPECT_EQ(pieces[0].size(), 22u + 4096u);
}

TEST_F(MultiplexerTest, MatchesRepliesInFifoOrder) {
  auto a = add(cmd("GET", "a"));
  auto b = add(cmd("GET", "b"));
  write();
  feed("$1\r\nA\r\n");
  EXPECT_TRUE(a->done);
  EXPECT_FALSE(b->done);
  feed("$1\r\nB\r\n");
  EXPECT_EQ(a->reply, "\"A\"");
  EXPECT_EQ(b->reply, "\"B\"");
  EXPECT_EQ(mux_.size(), 0u);
}

TEST_F(MultiplexerTest, CollectsOneReplyPerCommandOfARequest) {
  resp::Request multi;
  multi.push("MULTI").push("SET", "k", "v").push("GET", "k").push("EXEC");
  auto r = add(std::move(multi));
  write();
  feed("+OK\r\n+QUEUED\r\n+QUEUED\r\n");
  EXPECT_FALSE(r->done);
  feed("*2\r\n+OK\r\n$1\r\nv\r\n");
  ASSERT_TRUE(r->done);
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(r->reply, R"(["OK", "QUEUED", "QUEUED", ["OK", "v"]])");
}

TEST_F(MultiplexerTest, RoutesPushMessagesAwayFromCallers) {
  auto a = add(cmd("GET", "a"));
  write();
  auto kinds = feed(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n$1\r\nA\r\n");
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], Multiplexer::ReplyKind::push);
  EXPECT_EQ(kinds[1], Multiplexer::ReplyKind::matched);
  EXPECT_EQ(a->reply, "\"A\"");
}

TEST_F(MultiplexerTest, TreatsNothingAsPushUnderResp2) {
  auto a = add(cmd("GET", "a"));
  write();
  reader_.feed(">1\r\n$1\r\nx\r\n");
  auto next = reader_.next();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(mux_.on_reply(**next, false), Multiplexer::ReplyKind::matched);
}

TEST_F(MultiplexerTest, ReportsAReplyNobodyAskedFor) {
  auto kinds = feed("+OK\r\n");
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_EQ(kinds[0], Multiplexer::ReplyKind::unexpected);
}

TEST_F(MultiplexerTest, CompletesNoReplyRequestsOnceWrittenAndSkipsTheirSlot) {
  auto a = add(cmd("GET", "a"));
  resp::Request sub;
  sub.push("SUBSCRIBE", "ch");
  sub.flags().no_reply = true;
  auto s = add(std::move(sub));
  auto b = add(cmd("GET", "b"));
  write();
  EXPECT_TRUE(s->done);
  EXPECT_FALSE(s->ec);
  feed("$1\r\nA\r\n$1\r\nB\r\n");
  EXPECT_EQ(a->reply, "\"A\"");
  EXPECT_EQ(b->reply, "\"B\"");
}

TEST_F(MultiplexerTest, AbandonedRequestsKeepTheirSlot) {
  auto a = add(cmd("GET", "a"));
  const auto a_id = last_id_;
  auto b = add(cmd("GET", "b"));
  write();
  EXPECT_TRUE(mux_.cancel(a_id, boost::asio::error::operation_aborted));
  run_completions();
  EXPECT_EQ(a->ec, boost::asio::error::operation_aborted);
  feed("$1\r\nA\r\n$1\r\nB\r\n");
  EXPECT_EQ(b->reply, "\"B\"");  // not "A"
  EXPECT_EQ(mux_.size(), 0u);
}

TEST_F(MultiplexerTest, CancellingAWaitingRequestRemovesIt) {
  auto a = add(cmd("GET", "a"));
  const auto a_id = last_id_;
  auto b = add(cmd("GET", "b"));
  EXPECT_TRUE(mux_.cancel(a_id, boost::asio::error::operation_aborted, false));
  run_completions();
  EXPECT_TRUE(a->done);
  EXPECT_EQ(write(), "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  EXPECT_FALSE(mux_.cancel(a_id, boost::asio::error::operation_aborted));
}

TEST_F(MultiplexerTest, PartialCancellationLeavesAWrittenRequestAlone) {
  auto a = add(cmd("GET", "a"));
  write();
  EXPECT_FALSE(mux_.cancel(last_id_, boost::asio::error::operation_aborted, false));
  feed("$1\r\nA\r\n");
  EXPECT_EQ(a->reply, "\"A\"");
}

TEST_F(MultiplexerTest, ExpiresRequestsPastTheirDeadline) {
  auto a = add(cmd("GET", "a"), 100ms);
  write();
  auto b = add(cmd("GET", "b"), 100ms);
  auto c = add(cmd("GET", "c"), 300ms);
  EXPECT_EQ(mux_.next_deadline(), t0_ + 100ms);
  EXPECT_EQ(mux_.expire(t0_ + 50ms), 0u);
  EXPECT_EQ(mux_.expire(t0_ + 150ms), 2u);
  run_completions();
  EXPECT_EQ(a->ec, Errc::reply_timeout);
  EXPECT_EQ(b->ec, Errc::reply_timeout);
  EXPECT_FALSE(c->done);
  EXPECT_EQ(mux_.next_deadline(), t0_ + 300ms);
  // b was never written; a's slot stays for its late reply.
  EXPECT_EQ(write(), "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
  feed("$1\r\nA\r\n$1\r\nC\r\n");
  EXPECT_EQ(c->reply, "\"C\"");
}

TEST_F(MultiplexerTest, ReportsTheOldestWrittenRequest) {
  EXPECT_EQ(mux_.oldest_written_at(), Clock::time_point::max());
  add(cmd("GET", "a"), 10ms);
  write();
  mux_.expire(t0_ + 1s);
  run_completions();
  EXPECT_EQ(mux_.oldest_written_at(), t0_);  // abandoned, still unanswered
}

TEST_F(MultiplexerTest, FailsWrittenRequestsWhenTheLinkDrops) {
  auto a = add(cmd("GET", "a"));
  write();
  auto b = add(cmd("GET", "b"));
  mux_.on_link_lost();
  run_completions();
  EXPECT_EQ(a->ec, Errc::connection_lost);
  EXPECT_FALSE(b->done);
  EXPECT_EQ(write(), "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  feed("$1\r\nB\r\n");
  EXPECT_EQ(b->reply, "\"B\"");
}

TEST_F(MultiplexerTest, RetriesIdempotentRequestsOnceWhenConfigured) {
  Multiplexer mux(16, true);
  std::vector<std::string> got;
  auto handler = [&](std::string name) {
    return handler_of([&got, name](error_code ec, resp::Reply) {
      got.push_back(name + (ec ? ":" + ec.message().substr(0, 6) : ":ok"));
    });
  };
  auto read = cmd("GET", "a");
  read.flags().idempotent = true;
  auto h1 = handler("read");
  ASSERT_TRUE(mux.add(read, h1, t0_ + 1s));
  auto write_req = cmd("INCR", "a");
  auto h2 = handler("incr");
  ASSERT_TRUE(mux.add(write_req, h2, t0_ + 1s));
  (void)mux.prepare_write(t0_);
  mux.on_written();
  mux.on_link_lost();
  for (auto& c : mux.completions()) std::move(c.handler)(c.ec, std::move(c.reply));
  mux.completions().clear();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].substr(0, 4), "incr");
  EXPECT_EQ(joined(mux.prepare_write(t0_)), "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
  mux.on_written();
  mux.on_link_lost();  // the second loss is final
  for (auto& c : mux.completions()) std::move(c.handler)(c.ec, std::move(c.reply));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].substr(0, 4), "read");
}

TEST_F(MultiplexerTest, RejectsRequestsBeyondMaxPending) {
  std::vector<std::shared_ptr<Outcome>> all;
  for (int i = 0; i < 16; ++i) all.push_back(add(cmd("PING")));
  auto over = add(cmd("PING"));
  EXPECT_EQ(over->ec, Errc::queue_full);
  EXPECT_EQ(mux_.pending(), 16u);
}

TEST_F(MultiplexerTest, FailAllCompletesEverything) {
  auto a = add(cmd("GET", "a"));
  write();
  auto b = add(cmd("GET", "b"));
  mux_.fail_all(Errc::stopped);
  run_completions();
  EXPECT_EQ(a->ec, Errc::stopped);
  EXPECT_EQ(b->ec, Errc::stopped);
  EXPECT_EQ(mux_.size(), 0u);
  EXPECT_EQ(mux_.pending(), 0u);
}

TEST_F(MultiplexerTest, FailWaitingLeavesWrittenRequests) {
  auto a = add(cmd("GET", "a"));
  write();
  auto b = add(cmd("GET", "b"));
  mux_.fail_waiting(Errc::not_connected);
  run_completions();
  EXPECT_FALSE(a->done);
  EXPECT_EQ(b->ec, Errc::not_connected);
}

TEST_F(MultiplexerTest, GrowsPastItsInitialCapacityInOrder) {
  Multiplexer mux(100000);
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i) {
    auto req = cmd("PING");
    Multiplexer::Handler h =
        handler_of([&order, i](error_code, resp::Reply) { order.push_back(i); });
    ASSERT_TRUE(mux.add(req, h, t0_ + 1s));
    if (i % 300 == 0) {
      (void)mux.prepare_write(t0_);
      mux.on_written();
    }
  }
  (void)mux.prepare_write(t0_);
  mux.on_written();
  for (int i = 0; i < 1000; ++i) {
    reader_.feed("+PONG\r\n");
    auto next = reader_.next();
    ASSERT_TRUE(next && *next);
    ASSERT_EQ(mux.on_reply(**next, true), Multiplexer::ReplyKind::matched);
  }
  for (auto& c : mux.completions()) std::move(c.handler)(c.ec, std::move(c.reply));
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
}

}  // namespace
}  // namespace tiercache::redis::detail
