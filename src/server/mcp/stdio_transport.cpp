// The stdio loop. Plain read(2)/write(2): the descriptors may be pipes, files or a terminal, and
// the loop owns its buffer, so a line is bounded (max_message_bytes) whatever the peer sends:
// past the bound the rest of the line is discarded as it arrives, never kept.

#include "server/mcp/stdio_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
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
  const auto answer = [&](std::string message) -> bool {
    auto done =
        asio::co_spawn(executor, server.handle(session, std::move(message)), asio::use_future);
    const Outcome outcome = done.get();
    if (outcome.reply.is_null()) return true;
    return write_all(out, boost::json::serialize(outcome.reply) + "\n");
  };
  for (;;) {
    const auto n = ::read(in, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::error("mcp stdio: read failed: errno {}", errno);
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
          if (!write_all(out, boost::json::serialize(error) + "\n")) return 1;
        }
      }
      if (newline == std::string_view::npos) break;
      data.remove_prefix(newline + 1);
      if (!skipping && !blank(line)) {
        if (!answer(std::move(line))) return 1;
      }
      line.clear();
      skipping = false;
    }
  }
  if (!skipping && !blank(line)) {
    if (!answer(std::move(line))) return 1;
  }
  return 0;
}

}  // namespace tiercache::server::mcp
