// The stdio loop. Plain read(2)/write(2): the descriptors may be pipes, files or a terminal, and
// the loop owns its buffer, so a line is bounded (max_message_bytes) whatever the peer sends:
// past the bound the rest of the line is discarded as it arrives, never kept. Messages run on
// the executor as they arrive (no waiting for the previous reply), so a cancellation is read
// while the request it names runs; lines go out whole, one writer at a time.

#include "server/mcp/stdio_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

namespace tiercache::server::mcp {
namespace {

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// What the reading thread shares with the requests it started.
struct Lines {
  int out = -1;
  std::mutex write_mu;
  bool failed = false;  // guarded by write_mu
  std::mutex mu;
  std::condition_variable idle;
  std::size_t running = 0;  // guarded by mu

  void write(std::string line) {
    line += '\n';
    std::lock_guard lock(write_mu);
    if (!failed && !write_all(out, line)) failed = true;
  }
  bool ok() {
    std::lock_guard lock(write_mu);
    return !failed;
  }
  void wait_idle() {
    std::unique_lock lock(mu);
    idle.wait(lock, [this] { return running == 0; });
  }
};

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

int run_stdio(const McpServer& server, asio::any_io_executor executor, int in, int out) {
  const auto session = std::make_shared<SessionState>();
  const std::size_t max = server.options().max_message_bytes;
  std::string line;
  bool skipping = false;  // inside a line that passed the bound
  std::string chunk(64 * 1024, '\0');
  const auto lines = std::make_shared<Lines>();
  lines->out = out;
  const CallContext::Sender send = [lines](std::string n) { lines->write(std::move(n)); };
  const auto answer = [&](std::string message) -> bool {
    {
      std::lock_guard lock(lines->mu);
      ++lines->running;
    }
    asio::co_spawn(executor, server.handle(session, std::move(message), send),
                   [lines](std::exception_ptr e, Outcome outcome) {
                     if (e) spdlog::error("mcp stdio: a message failed unexpectedly");
                     if (!e && !outcome.reply.empty()) lines->write(std::move(outcome.reply));
                     std::lock_guard lock(lines->mu);
                     --lines->running;
                     lines->idle.notify_all();
                   });
    return lines->ok();
  };
  for (;;) {
    const auto n = ::read(in, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::error("mcp stdio: read failed: errno {}", errno);
      lines->wait_idle();
      return 1;
    }
    if (n == 0) break;
    std::string_view data(chunk.data(), static_cast<std::size_t>(n));
    while (!data.empty()) {
      const auto newline = data.find('\n');
      const auto part = data.substr(0, newline);
      if (!skipping) {
        line.append(part);
        if (line.size() > max) {
          skipping = true;
          line.clear();
          // One reply per oversized line, sent as soon as it is known to be too long.
          const auto error = make_error(nullptr, ErrorCode::invalid_request,
                                        "the message exceeds " + std::to_string(max) + " bytes");
          lines->write(boost::json::serialize(error));
          if (!lines->ok()) break;
        }
      }
      if (newline == std::string_view::npos) break;
      data.remove_prefix(newline + 1);
      if (!skipping && !blank(line)) {
        if (!answer(std::move(line))) break;
      }
      line.clear();
      skipping = false;
    }
    if (!lines->ok()) break;
  }
  if (lines->ok() && !skipping && !blank(line)) answer(std::move(line));
  lines->wait_idle();
  return lines->ok() ? 0 : 1;
}

}  // namespace tiercache::server::mcp
