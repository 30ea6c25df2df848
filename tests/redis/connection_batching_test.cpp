// How a Connection batches its writes when a batch of replies comes back, against a scripted
// server (test::FakeServer) that holds its replies until a whole round of requests is in.

#include "tiercache/redis/connection.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/fake_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <string>
#include <string_view>

namespace tiercache::redis {
namespace {

using test::command;
using namespace std::chrono_literals;

constexpr std::size_t kCallers = 64;  // two delivery slices of 32 (connection_io.cpp)
constexpr int kRounds = 10;

// Answers nothing until kCallers GETs are in, then all of them in one write, so that the
// client reads a whole round of replies at once.
class RoundServer {
 public:
  std::string operator()(std::string_view in) {
    std::string out;
    for (const auto& cmd : test::FakeServer::parse_commands(in)) {  // the handshake's
      if (cmd.front() == "HELLO") out += test::FakeServer::hello_reply();
      if (cmd.front() != "HELLO" && cmd.front() != "GET") out += "+OK\r\n";
    }
    // GETs are counted in the byte stream, not per chunk: TCP may split one between two.
    static constexpr std::string_view kGet = "\r\nGET\r\n";
    stream_.append(in);
    for (auto at = stream_.find(kGet); at != std::string::npos;
         at = stream_.find(kGet, at + kGet.size())) {
      if (++waiting_ < kCallers) continue;
      for (; waiting_ > 0; --waiting_) out += "$1\r\nv\r\n";
    }
    stream_.erase(0, stream_.size() - std::min(stream_.size(), kGet.size() - 1));
    return out;
  }

 private:
  std::string stream_;  // the tail that may hold the start of a GET
  std::size_t waiting_ = 0;
};

asio::awaitable<void> get_in_rounds(Connection& conn, std::atomic<int>& failures,
                                    std::atomic<std::size_t>& done, std::promise<void>& all_done) {
  for (int round = 0; round < kRounds; ++round) {
    auto r = co_await conn.exec(command("GET", "k"));
    if (!r || r->str() != "v") ++failures;
  }
  if (++done == kCallers) all_done.set_value();
}

// The callers of the first 32 replies ask again at once; their requests must leave before the
// other 32 replies are handed over, so that the server works on them meanwhile. Were the whole
// batch delivered first, each round would leave in a single write and client and server would
// take turns idling (bench/README.md, client_bench: GET at 256 in flight on one link).
TEST(ConnectionBatchingTest, RequestsAskedDuringDeliveryLeaveBeforeTheBatchIsDone) {
  test::FakeServer fake(RoundServer{});
  test::IoThreads io;
  Config cfg = fake.config();
  cfg.request_timeout = 5s;
  Connection conn(io.executor(), cfg);
  conn.start();

  std::atomic<int> failures{0};
  std::atomic<std::size_t> done{0};
  std::promise<void> all_done;
  for (std::size_t i = 0; i < kCallers; ++i) {
    asio::co_spawn(io.executor(), get_in_rounds(conn, failures, done, all_done), asio::detached);
  }
  ASSERT_EQ(all_done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(failures.load(), 0);
  const auto stats = conn.stats();
  EXPECT_EQ(stats.requests, kCallers * kRounds);
  // The first round leaves in one or two writes; each later one in at least two (one per
  // slice), where a link that waits for the whole batch makes one.
  EXPECT_GE(stats.writes, 2u * (kRounds - 1)) << "each round left in a single write";
}

}  // namespace
}  // namespace tiercache::redis
