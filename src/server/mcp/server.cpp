// The MCP lifecycle and tool methods. Ordering rules, after basic/lifecycle of the 2025-06-18
// and 2025-11-25 revisions:
//   - before initialize only initialize and ping are answered; anything else is -32600;
//   - initialize once per session; the server offers the client's version when it speaks it,
//     else its newest, and the client decides whether to go on;
//   - notifications/initialized moves the session to ready; tools work from the initialize
//     reply on (a client that forgets the notification still gets answers);
//   - a batch is a 2025-03-26 feature: refused before a version is agreed (initialize must not
//     be batched) and under the revisions that removed it.
// Protocol faults are JSON-RPC errors; a tool's failure, bad arguments included, is a result
// with isError (tools/call), so the model reads what was wrong and can correct itself.
//
// Progress and cancellation (basic/utilities/progress and cancellation): a tools/call whose
// params._meta.progressToken is a string or an integer gets a CallContext that sends
// notifications/progress through the transport's sender; every running tools/call is listed in
// its session under its id, so notifications/cancelled {requestId} marks it cancelled. The tool
// stops at its next step (calendar_warm: between locations and upstream requests), and the
// request then owes no reply, as the spec asks. A cancel for an unknown or finished id is ignored
// (it may cross the reply on the wire); initialize cannot be cancelled (it never runs a tool).
//
// A tools/call result is serialized once: structuredContent is the tool's JSON object, and the
// text content that the spec asks for alongside it (for clients that read text only, "SHOULD
// also return the serialized JSON in a TextContent block") is the same bytes, as a JSON string.
// The reply is written as text around them, so the result is neither copied into a second DOM
// nor serialized twice.

#include "server/mcp/server.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <exception>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;

// Revisions from 2025-06-18 on know titles, output schemas and structured content.
bool structured_era(std::string_view version) { return version >= "2025-06-18"; }

json::value error_of(const Message& m, ErrorCode code, std::string why) {
  return make_error(m.id, code, std::move(why));
}

std::string error_text(const Message& m, ErrorCode code, std::string why) {
  return json::serialize(make_error(m.id, code, std::move(why)));
}

// A progress token is a string or an integer (basic/utilities/progress).
json::value progress_token(const json::object& params) {
  const auto* meta = params.if_contains("_meta");
  if (meta == nullptr || !meta->is_object()) return nullptr;
  const auto* token = meta->as_object().if_contains("progressToken");
  if (token == nullptr || !(token->is_string() || token->is_int64() || token->is_uint64())) {
    return nullptr;
  }
  return *token;
}

// The reply to a tools/call, written around the result's one serialization.
std::string tool_reply(const json::value& id, const ToolResult& result, bool structured) {
  const bool with_structured = structured && !result.is_error;
  std::string serialized;
  if (result.text.empty() || with_structured) serialized = json::serialize(result.structured);
  const std::string_view text = result.text.empty() ? serialized : result.text;
  std::string out;
  out.reserve(64 + 2 * serialized.size() + text.size() / 8 + result.text.size());
  out += R"({"jsonrpc":"2.0","id":)";
  out += json::serialize(id);
  out += R"(,"result":{"content":[{"type":"text","text":)";
  out += json::serialize(json::string_view(text.data(), text.size()));
  out += R"(}],"isError":)";
  out += result.is_error ? "true" : "false";
  if (with_structured) {
    out += R"(,"structuredContent":)";
    out += serialized;
  }
  out += "}}";
  return out;
}

std::string method_list() { return "initialize, ping, tools/list, tools/call"; }

}  // namespace

bool supported_version(std::string_view version) noexcept {
  for (const auto v : kProtocolVersions) {
    if (v == version) return true;
  }
  return false;
}

SessionState::Phase SessionState::phase() const {
  std::lock_guard lock(mu_);
  return phase_;
}

std::string SessionState::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

McpServer::McpServer(ToolRegistry tools, ServerOptions options)
    : tools_(std::move(tools)), options_(std::move(options)) {}

asio::awaitable<Outcome> McpServer::handle(std::shared_ptr<SessionState> session,
                                           std::string payload, CallContext::Sender send) const {
  Outcome out;
  if (payload.size() > options_.max_message_bytes) {
    out.had_requests = true;
    out.reply = json::serialize(
        make_error(nullptr, ErrorCode::invalid_request,
                   "the message exceeds " + std::to_string(options_.max_message_bytes) + " bytes"));
    co_return out;
  }
  Payload parsed = parse_payload(payload);
  if (parsed.batch) {
    const std::string version = session->version();
    std::string refusal;
    if (version.empty()) {
      refusal = "batches are refused before initialize (initialize must not be part of a batch)";
    } else if (version != "2025-03-26") {
      refusal = "protocol version " + version + " has no JSON-RPC batches; send one message";
    } else if (parsed.items.size() > options_.max_batch) {
      refusal = "a batch holds at most " + std::to_string(options_.max_batch) + " messages";
    }
    if (!refusal.empty()) {
      out.had_requests = true;
      out.reply = json::serialize(make_error(nullptr, ErrorCode::invalid_request, refusal));
      co_return out;
    }
  }
  std::vector<std::string> replies;
  for (auto& item : parsed.items) {
    if (auto* rejected = std::get_if<Rejected>(&item)) {
      out.had_requests = true;
      if (!rejected->reply.is_null()) replies.push_back(json::serialize(rejected->reply));
      continue;
    }
    auto& m = std::get<Message>(item);
    if (m.kind == Message::Kind::response) continue;
    if (m.kind == Message::Kind::notification) {
      notify(*session, m);
      continue;
    }
    out.had_requests = true;
    std::string reply = co_await answer(session, std::move(m), send);
    if (!reply.empty()) replies.push_back(std::move(reply));
  }
  if (replies.empty()) co_return out;
  if (!parsed.batch) {
    out.reply = std::move(replies.front());
    co_return out;
  }
  out.reply = "[";
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (i > 0) out.reply += ',';
    out.reply += replies[i];
  }
  out.reply += ']';
  co_return out;
}

asio::awaitable<std::string> McpServer::answer(std::shared_ptr<SessionState> session, Message m,
                                               CallContext::Sender send) const {
  // Kept for the error reply: a tools/call takes the message whole.
  const json::value id = m.id;
  const std::string method = m.method;
  try {
    if (m.method == "initialize") co_return json::serialize(initialize(*session, m));
    if (m.method == "ping") co_return json::serialize(make_result(m.id, json::object{}));
    if (session->phase() == SessionState::Phase::new_) {
      co_return error_text(m, ErrorCode::invalid_request,
                           "the session is not initialized: send initialize first");
    }
    if (m.method == "tools/list") co_return json::serialize(list_tools(*session, m));
    if (m.method == "tools/call") {
      co_return co_await call_tool(session, std::move(m), std::move(send));
    }
    co_return error_text(
        m, ErrorCode::method_not_found,
        "method '" + m.method + "' is not supported (supported: " + method_list() + ")");
  } catch (const std::exception& e) {
    spdlog::error("mcp: {} failed: {}", method, e.what());
  }
  co_return json::serialize(
      make_error(id, ErrorCode::internal_error, "internal error; see the server log"));
}

json::value McpServer::initialize(SessionState& session, const Message& m) const {
  const auto* requested = m.params.if_contains("protocolVersion");
  if (requested == nullptr || !requested->is_string()) {
    return error_of(m, ErrorCode::invalid_params,
                    "initialize needs params.protocolVersion, a string such as \"" +
                        std::string(kProtocolVersions.front()) + "\"");
  }
  const auto* client_info = m.params.if_contains("clientInfo");
  if (client_info == nullptr || !client_info->is_object() ||
      !client_info->as_object().contains("name")) {
    return error_of(m, ErrorCode::invalid_params,
                    "initialize needs params.clientInfo, an object with a name and a version");
  }
  const auto* capabilities = m.params.if_contains("capabilities");
  if (capabilities == nullptr || !capabilities->is_object()) {
    return error_of(m, ErrorCode::invalid_params,
                    "initialize needs params.capabilities, an object (may be empty)");
  }
  const std::string_view asked = requested->as_string();
  const std::string version(supported_version(asked) ? asked : kProtocolVersions.front());
  {
    std::lock_guard lock(session.mu_);
    if (session.phase_ != SessionState::Phase::new_) {
      return error_of(m, ErrorCode::invalid_request,
                      "the session is already initialized (protocol " + session.version_ + ")");
    }
    session.phase_ = SessionState::Phase::initialized;
    session.version_ = version;
  }
  json::object info{{"name", options_.name}, {"version", options_.version}};
  if (structured_era(version)) info["title"] = "tiercached (two-tier cache)";
  json::object result{{"protocolVersion", version},
                      {"capabilities", {{"tools", {{"listChanged", false}}}}},
                      {"serverInfo", std::move(info)}};
  if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
  spdlog::debug("mcp: session initialized, protocol {} (asked {})", version, asked);
  return make_result(m.id, std::move(result));
}

json::value McpServer::list_tools(const SessionState& session, const Message& m) const {
  // Every tool fits one page, so no cursor is ever handed out, and none is accepted.
  if (m.params.contains("cursor")) {
    return error_of(m, ErrorCode::invalid_params,
                    "unknown cursor: tools/list returns every tool in one page");
  }
  const bool structured = structured_era(session.version());
  json::array list;
  for (const auto& tool : tools_.all()) {
    json::object t{
        {"name", tool.name}, {"description", tool.description}, {"inputSchema", tool.input_schema}};
    if (structured) {
      if (!tool.title.empty()) t["title"] = tool.title;
      if (tool.output_schema) t["outputSchema"] = *tool.output_schema;
    }
    if (!tool.annotations.empty()) t["annotations"] = tool.annotations;
    list.push_back(std::move(t));
  }
  return make_result(m.id, json::object{{"tools", std::move(list)}});
}

asio::awaitable<std::string> McpServer::call_tool(std::shared_ptr<SessionState> session, Message m,
                                                  CallContext::Sender send) const {
  const auto* name = m.params.if_contains("name");
  if (name == nullptr || !name->is_string()) {
    co_return error_text(m, ErrorCode::invalid_params,
                         "tools/call needs params.name, the name of a tool from tools/list");
  }
  const Tool* tool = tools_.find(name->as_string());
  if (tool == nullptr) {
    std::string known;
    for (const auto& t : tools_.all()) known += (known.empty() ? "" : ", ") + t.name;
    co_return error_text(
        m, ErrorCode::invalid_params,
        "unknown tool '" + std::string(name->as_string()) + "' (tools: " + known + ")");
  }
  json::value arguments = json::object{};
  if (auto* a = m.params.if_contains("arguments")) {
    if (!a->is_object()) {
      co_return error_text(m, ErrorCode::invalid_params, "params.arguments must be a JSON object");
    }
    arguments = std::move(*a);
  }
  ToolResult result;
  auto call = std::make_shared<CallContext>(progress_token(m.params), std::move(send));
  const std::string key = json::serialize(m.id);
  if (auto problem = check_arguments(tool->input_schema, arguments)) {
    result = ToolResult::error("invalid arguments for " + tool->name + ": " + *problem);
  } else {
    {
      std::lock_guard lock(session->mu_);
      session->running_[key] = call;
    }
    try {
      result = co_await tool->handler(std::move(arguments.as_object()), call);
    } catch (const std::exception& e) {
      spdlog::error("mcp: tool {} threw: {}", tool->name, e.what());
      result = ToolResult::error(tool->name + " failed: internal error; see the server log");
    }
    std::lock_guard lock(session->mu_);
    if (auto it = session->running_.find(key);
        it != session->running_.end() && it->second == call) {
      session->running_.erase(it);
    }
  }
  if (call->cancelled()) {
    spdlog::debug("mcp: tools/call {} ({}) was cancelled; no reply is sent", key, tool->name);
    co_return std::string();
  }
  co_return tool_reply(m.id, result, structured_era(session->version()));
}

void McpServer::notify(SessionState& session, const Message& m) const {
  if (m.method == "notifications/initialized") {
    std::lock_guard lock(session.mu_);
    if (session.phase_ == SessionState::Phase::initialized) {
      session.phase_ = SessionState::Phase::ready;
    }
    return;
  }
  if (m.method == "notifications/cancelled") {
    const auto* id = m.params.if_contains("requestId");
    if (id == nullptr || !(id->is_string() || id->is_int64() || id->is_uint64())) return;
    std::shared_ptr<CallContext> call;
    {
      std::lock_guard lock(session.mu_);
      if (auto it = session.running_.find(json::serialize(*id)); it != session.running_.end()) {
        call = it->second;
      }
    }
    if (call) call->cancel();
    spdlog::debug("mcp: request {} cancelled ({})", json::serialize(*id),
                  call ? "running" : "not running");
    return;
  }
  // Unknown notifications are ignored, as JSON-RPC asks.
  spdlog::debug("mcp: notification {} ignored", m.method);
}

}  // namespace tiercache::server::mcp
