// Progress and cancellation (issue #8) over the stdio transport, as a host drives it: a
// tools/call carrying _meta.progressToken gets notifications/progress while it runs, a
// notifications/cancelled naming it stops it and it is then never answered, while the session
// keeps answering other requests; a call without a token gets no notifications. The tools are
// test tools, so the test needs neither Redis nor node (tests/mcp/ drives calendar_warm the
// same way with the SDK).

#include "server/mcp/server.hpp"
#include "server/mcp/stdio_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct SlowState {
  std::atomic<int> steps{0};
  std::atomic<bool> stopped_by_cancel{false};
  std::atomic<bool> finished{false};
};

// Steps of 5 ms, progress after each, until cancelled or 2000 steps (10 s: the test's bound).
asio::awaitable<ToolResult> slow(std::shared_ptr<SlowState> state,
                                 std::shared_ptr<CallContext> call) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 1; i <= 2000; ++i) {
    if (call->cancelled()) {
      state->stopped_by_cancel = true;
      break;
    }
    timer.expires_after(5ms);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    state->steps = i;
    call->progress(i, 2000, "step " + std::to_string(i));
  }
  state->finished = true;
  co_return ToolResult::ok({{"steps", state->steps.load()}});
}

ToolRegistry tools(std::shared_ptr<SlowState> state) {
  ToolRegistry r;
  r.add(Tool{.name = "slow",
             .description = "Counts slowly.",
             .input_schema = json::object{{"type", "object"}},
             .handler = [state](json::object, std::shared_ptr<CallContext> call) {
               return slow(state, std::move(call));
             }});
  r.add(Tool{.name = "quick",
             .description = "Reports progress once and answers.",
             .input_schema = json::object{{"type", "object"}},
             .handler = [](json::object, std::shared_ptr<CallContext> call) {
               call->progress(1, 1);
               return [](bool asked) -> asio::awaitable<ToolResult> {
                 co_return ToolResult::ok({{"asked_for_progress", asked}});
               }(call->wants_progress());
             }});
  return r;
}

// tiercached mcp's loop on two pipes, over an io_context of two threads.
class StdioSession {
 public:
  explicit StdioSession(std::shared_ptr<SlowState> state)
      : server_(tools(std::move(state)), {}), work_(io_.get_executor()) {
    int to[2], from[2];
    if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("pipe failed");
    write_fd_ = to[1];
    read_fd_ = from[0];
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    loop_ = std::thread([this, in = to[0], out = from[1]] {
      exit_code_ = run_stdio(server_, io_.get_executor(), in, out);
      ::close(in);
      ::close(out);
    });
  }
  ~StdioSession() {
    close_input();
    if (loop_.joinable()) loop_.join();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    ::close(read_fd_);
  }

  void send(const std::string& line) {
    const std::string bytes = line + "\n";
    ASSERT_EQ(::write(write_fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // The next message the server wrote; nullopt at end of output or after 10 s.
  std::optional<json::value> next() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        auto v = json::parse(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
        return v;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{read_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const auto n = ::read(read_fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // Messages up to the reply with this id (which is last); fails the test past 10 s.
  std::vector<json::value> until_reply(std::int64_t id) {
    std::vector<json::value> seen;
    while (auto m = next()) {
      seen.push_back(*m);
      const auto* got = m->as_object().if_contains("id");
      if (got != nullptr && *got == json::value(id)) return seen;
    }
    ADD_FAILURE() << "no reply with id " << id;
    return seen;
  }
  void initialize() {
    send(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"gtest","version":"1"}}})");
    until_reply(0);
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
  void close_input() {
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
  }
  // The loop's exit code, once it has ended (after close_input()).
  int join() {
    if (loop_.joinable()) loop_.join();
    return exit_code_;
  }

 private:
  asio::io_context io_;
  McpServer server_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::thread loop_;
  int write_fd_ = -1;
  int read_fd_ = -1;
  int exit_code_ = -1;
  std::string buffer_;
};

bool is_progress(const json::value& m, const json::value& token) {
  const auto& o = m.as_object();
  return o.contains("method") && o.at("method") == json::value("notifications/progress") &&
         o.at("params").at("progressToken") == token;
}

bool is_reply_to(const json::value& m, std::int64_t id) {
  const auto* got = m.as_object().if_contains("id");
  return got != nullptr && *got == json::value(id) && !m.as_object().contains("method");
}

TEST(McpProgressTest, ProgressComesWhileACallRunsAndACancelStopsItUnanswered) {
  auto state = std::make_shared<SlowState>();
  StdioSession s(state);
  s.initialize();
  s.send(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":"p-7"}}})");
  // Two notifications while it runs, growing, with the total.
  std::vector<double> progress;
  while (progress.size() < 2) {
    auto m = s.next();
    ASSERT_TRUE(m) << "no progress notification";
    ASSERT_FALSE(is_reply_to(*m, 7)) << json::serialize(*m);
    ASSERT_TRUE(is_progress(*m, json::value("p-7"))) << json::serialize(*m);
    progress.push_back(m->at("params").at("progress").to_number<double>());
    EXPECT_EQ(m->at("params").at("total").to_number<double>(), 2000.0);
  }
  EXPECT_LT(progress[0], progress[1]);

  s.send(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user gave up"}})");
  // The session still answers, and the call stops at its next step.
  s.send(R"({"jsonrpc":"2.0","id":8,"method":"ping"})");
  for (const auto& m : s.until_reply(8)) EXPECT_FALSE(is_reply_to(m, 7)) << json::serialize(m);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!state->finished && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(state->finished);
  EXPECT_TRUE(state->stopped_by_cancel);
  EXPECT_LT(state->steps.load(), 2000);

  // At the end of input the loop ends cleanly, and nothing ever answered the cancelled call.
  s.close_input();
  while (auto m = s.next()) EXPECT_FALSE(is_reply_to(*m, 7)) << json::serialize(*m);
  EXPECT_EQ(s.join(), 0);
}

TEST(McpProgressTest, ACallWithoutAProgressTokenGetsNoNotifications) {
  auto state = std::make_shared<SlowState>();
  StdioSession s(state);
  s.initialize();
  s.send(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"quick","arguments":{}}})");
  auto seen = s.until_reply(1);
  ASSERT_EQ(seen.size(), 1u);  // the reply alone
  EXPECT_EQ(seen[0].at("result").at("structuredContent").at("asked_for_progress"),
            json::value(false));
  // With an integer token: one notification, then the reply.
  s.send(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"quick","arguments":{},"_meta":{"progressToken":42}}})");
  seen = s.until_reply(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(is_progress(seen[0], json::value(42))) << json::serialize(seen[0]);
  EXPECT_EQ(seen[1].at("result").at("structuredContent").at("asked_for_progress"),
            json::value(true));
  // A cancel naming no running request changes nothing.
  s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}})");
  s.send(R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
  EXPECT_EQ(s.until_reply(3).size(), 1u);
}

}  // namespace
}  // namespace tiercache::server::mcp
