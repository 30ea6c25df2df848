#pragma once
// Tool and ToolRegistry: what an MCP client sees in tools/list and runs with tools/call. A tool
// is a name, a description written for the model, a JSON Schema for its arguments (checked
// before the handler runs, so a handler sees only well-typed arguments), an output schema, and
// a handler that answers with structured content or a tool error the model can read and act on.
// Each family of tools is one file that adds itself (cache_tools.cpp; calendar_tools.cpp next),
// listed once in tool_sets.cpp.
// Use: registry.add(Tool{.name = "cache_get", ..., .handler = [&s](json::object a) { return f(s,
// a); }}); Thread-safety: add() before serving; find() and all() are const and safe from any
// thread.

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::server::mcp {

namespace asio = boost::asio;

// The answer of one tool call: `structured` goes out as structuredContent and, serialized, as
// the text content (clients of 2025-03-26 see only the text). An error result (is_error) carries
// a sentence for the model: what was wrong and what is expected.
struct ToolResult {
  boost::json::object structured{};
  std::string text{};  // empty: the JSON of `structured`
  bool is_error = false;

  static ToolResult ok(boost::json::object structured);
  static ToolResult error(std::string message);
};

// One running tools/call, as its handler sees it: progress it may report (sent as
// notifications/progress only when the client gave params._meta.progressToken) and whether the
// client cancelled it (notifications/cancelled naming its id). A long handler reports progress
// between steps and stops at the next step once cancelled; a short one ignores both.
// Thread-safety: safe from any thread (the cancel comes from another request's coroutine).
class CallContext {
 public:
  // Sends one serialized JSON-RPC notification to the client of this call.
  using Sender = std::function<void(std::string notification)>;

  CallContext() = default;
  CallContext(boost::json::value progress_token, Sender send);

  // Whether the client asked for progress (a progressToken came with the request).
  bool wants_progress() const noexcept { return !token_.is_null() && send_ != nullptr; }
  // Sends notifications/progress {progressToken, progress, total?, message?}; nothing when the
  // client asked for none. `progress` must grow from one call to the next (the spec's rule);
  // a value not above the last one sent is dropped.
  void progress(double progress, std::optional<double> total = std::nullopt,
                std::string message = {});
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  void cancel() noexcept { cancelled_.store(true, std::memory_order_release); }

 private:
  boost::json::value token_{};
  Sender send_{};
  std::atomic<bool> cancelled_{false};
  std::atomic<double> last_{-1.0};
};

// Runs one call with arguments already checked against the input schema. A non-coroutine
// callable returning a coroutine (a capturing lambda must not itself be a coroutine). It may
// throw: the caller answers an error result then, and logs the exception. `call` is never null.
using ToolHandler = std::function<asio::awaitable<ToolResult>(boost::json::object arguments,
                                                              std::shared_ptr<CallContext> call)>;

struct Tool {
  std::string name{};
  std::string title{};
  // For the model: what the tool does, when to use it, what it returns.
  std::string description{};
  // JSON Schema of the arguments (type "object"); the subset check_arguments understands.
  boost::json::object input_schema{};
  // JSON Schema of structuredContent; none when the result has no fixed shape.
  std::optional<boost::json::object> output_schema{};
  // MCP tool annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint).
  boost::json::object annotations{};
  ToolHandler handler{};
};

class ToolRegistry {
 public:
  // REQUIRES: a name not added before, 1-64 of [A-Za-z0-9_-]; a handler.
  void add(Tool tool);
  const Tool* find(std::string_view name) const;
  const std::vector<Tool>& all() const noexcept { return tools_; }

 private:
  std::vector<Tool> tools_;
};

// Checks `arguments` against `schema`: types, required members, no unknown members (when
// additionalProperties is false), enum, string lengths, integer bounds, array items and length.
// Returns the first violation as a sentence naming the argument and what it expects.
std::optional<std::string> check_arguments(const boost::json::object& schema,
                                           const boost::json::value& arguments);

}  // namespace tiercache::server::mcp
