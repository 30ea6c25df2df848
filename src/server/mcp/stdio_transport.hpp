#pragma once
// The stdio transport (`tiercached mcp`): newline-delimited JSON-RPC on a pair of descriptors,
// one session for the life of the process. Messages are answered in order, one at a time, on
// the io_context; the reading thread waits for each. stdout carries only JSON-RPC replies (the
// caller points the log at stderr). Ends at end of input.
// Use: run_stdio(server, io.get_executor(), STDIN_FILENO, STDOUT_FILENO);
// Thread-safety: blocks the calling thread, which must not be one running the executor.

#include "server/mcp/server.hpp"

#include <boost/asio/any_io_executor.hpp>

namespace tiercache::server::mcp {

// Reads messages from `in` until end of input (or a read error) and writes each reply, one line,
// to `out`. A line longer than the server's max_message_bytes is answered with -32600 and
// skipped to its end. Returns 0 at end of input, 1 when a read or write failed.
int run_stdio(const McpServer& server, asio::any_io_executor executor, int in, int out);

}  // namespace tiercache::server::mcp
