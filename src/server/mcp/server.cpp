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
                                           std::string payload) const {
  Outcome out;
  if (payload.size() > options_.max_message_bytes) {
    out.had_requests = true;
    out.reply =
        make_error(nullptr, ErrorCode::invalid_request,
                   "the message exceeds " + std::to_string(options_.max_message_bytes) + " bytes");
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
      out.reply = make_error(nullptr, ErrorCode::invalid_request, std::move(refusal));
      co_return out;
    }
  }
  json::array replies;
  for (auto& item : parsed.items) {
    if (auto* rejected = std::get_if<Rejected>(&item)) {
      out.had_requests = true;
      if (!rejected->reply.is_null()) replies.push_back(std::move(rejected->reply));
      continue;
    }
    auto& m = std::get<Message>(item);
    if (m.kind == Message::Kind::response) continue;
    if (m.kind == Message::Kind::notification) {
      notify(*session, m);
      continue;
    }
    out.had_requests = true;
    json::value reply = co_await answer(session, std::move(m));
    replies.push_back(std::move(reply));
  }
  if (replies.empty()) co_return out;
  if (parsed.batch) {
    out.reply = std::move(replies);
  } else {
    out.reply = std::move(replies.front());
  }
  co_return out;
}

asio::awaitable<json::value> McpServer::answer(std::shared_ptr<SessionState> session,
                                               Message m) const {
  try {
    if (m.method == "initialize") co_return initialize(*session, m);
    if (m.method == "ping") co_return make_result(m.id, json::object{});
    if (session->phase() == SessionState::Phase::new_) {
      co_return error_of(m, ErrorCode::invalid_request,
                         "the session is not initialized: send initialize first");
    }
    if (m.method == "tools/list") co_return list_tools(*session, m);
    if (m.method == "tools/call") co_return co_await call_tool(session, std::move(m));
    co_return error_of(
        m, ErrorCode::method_not_found,
        "method '" + m.method + "' is not supported (supported: " + method_list() + ")");
  } catch (const std::exception& e) {
    spdlog::error("mcp: {} failed: {}", m.method, e.what());
  }
  co_return error_of(m, ErrorCode::internal_error, "internal error; see the server log");
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

asio::awaitable<json::value> McpServer::call_tool(std::shared_ptr<SessionState> session,
                                                  Message m) const {
  const auto* name = m.params.if_contains("name");
  if (name == nullptr || !name->is_string()) {
    co_return error_of(m, ErrorCode::invalid_params,
                       "tools/call needs params.name, the name of a tool from tools/list");
  }
  const Tool* tool = tools_.find(name->as_string());
  if (tool == nullptr) {
    std::string known;
    for (const auto& t : tools_.all()) known += (known.empty() ? "" : ", ") + t.name;
    co_return error_of(
        m, ErrorCode::invalid_params,
        "unknown tool '" + std::string(name->as_string()) + "' (tools: " + known + ")");
  }
  json::value arguments = json::object{};
  if (const auto* a = m.params.if_contains("arguments")) {
    if (!a->is_object()) {
      co_return error_of(m, ErrorCode::invalid_params, "params.arguments must be a JSON object");
    }
    arguments = *a;
  }
  ToolResult result;
  if (auto problem = check_arguments(tool->input_schema, arguments)) {
    result = ToolResult::error("invalid arguments for " + tool->name + ": " + *problem);
  } else {
    try {
      result = co_await tool->handler(std::move(arguments.as_object()));
    } catch (const std::exception& e) {
      spdlog::error("mcp: tool {} threw: {}", tool->name, e.what());
      result = ToolResult::error(tool->name + " failed: internal error; see the server log");
    }
  }
  std::string text = result.text.empty() ? json::serialize(result.structured) : result.text;
  json::object out{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                   {"isError", result.is_error}};
  if (!result.is_error && structured_era(session->version())) {
    out["structuredContent"] = std::move(result.structured);
  }
  co_return make_result(m.id, std::move(out));
}

void McpServer::notify(SessionState& session, const Message& m) const {
  if (m.method == "notifications/initialized") {
    std::lock_guard lock(session.mu_);
    if (session.phase_ == SessionState::Phase::initialized) {
      session.phase_ = SessionState::Phase::ready;
    }
    return;
  }
  // notifications/cancelled and the rest: every request here is answered at once or not at all,
  // so there is nothing to cancel; unknown notifications are ignored, as JSON-RPC asks.
  spdlog::debug("mcp: notification {} ignored", m.method);
}

}  // namespace tiercache::server::mcp
