#pragma once
// The stdio transport (`tiercached mcp`): newline-delimited JSON-RPC on a pair of descriptors,
// one session for the life of the process. Each message is handed to the io_context as it is
// read, so a request may run while the next line is read: a notifications/cancelled reaches the
// tools/call it names, and replies may come in another order than the requests (JSON-RPC
// matches them by id). A tool's progress notifications are written as they are sent. stdout
// carries only JSON-RPC messages, one per line (the caller points the log at stderr). Ends at
// end of input, once every running request has been answered.
// Use: run_stdio(server, io.get_executor(), STDIN_FILENO, STDOUT_FILENO);
// Thread-safety: blocks the calling thread, which must not be one running the executor.

#include "server/mcp/server.hpp"

#include <boost/asio/any_io_executor.hpp>

namespace tiercache::server::mcp {

// Reads messages from `in` until end of input (or a read error) and writes each reply and
// notification, one line, to `out`. A line longer than the server's max_message_bytes is answered
// with -32600 and skipped to its end. Returns 0 at end of input, 1 when a read or write failed.
int run_stdio(const McpServer& server, asio::any_io_executor executor, int in, int out);

}  // namespace tiercache::server::mcp
