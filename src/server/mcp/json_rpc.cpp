// JSON-RPC 2.0 checks. Only what the specification and MCP's basic/index page demand is refused:
// "jsonrpc" must be "2.0", "method" a string, an id a string or an integer (MCP forbids null),
// params an object (MCP never uses positional params). A reply to a malformed request carries
// its id when the id itself was well formed, else null, as JSON-RPC section 5 asks.

#include "server/mcp/json_rpc.hpp"

#include <boost/json/parse.hpp>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;

bool usable_id(const json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

// Takes the params out of `v` (moved, not copied: they can be a large tool argument).
std::variant<Message, Rejected> check(json::value& v) {
  if (!v.is_object()) {
    return Rejected{make_error(nullptr, ErrorCode::invalid_request,
                               "a JSON-RPC message must be a JSON object")};
  }
  auto& o = v.as_object();
  const auto* id = o.if_contains("id");
  const json::value reply_id = (id != nullptr && usable_id(*id)) ? *id : json::value(nullptr);
  const auto reject = [&](ErrorCode code, std::string why) -> std::variant<Message, Rejected> {
    return Rejected{make_error(reply_id, code, std::move(why))};
  };
  const auto* version = o.if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->as_string() != "2.0") {
    return reject(ErrorCode::invalid_request, "\"jsonrpc\" must be the string \"2.0\"");
  }
  if (id != nullptr && !usable_id(*id)) {
    return reject(ErrorCode::invalid_request, "\"id\" must be a string or an integer (not null)");
  }
  const auto* method = o.if_contains("method");
  if (method == nullptr) {
    // A reply to a request of ours. The server sends none, so it is only accepted and dropped.
    if (id != nullptr && (o.contains("result") || o.contains("error"))) {
      return Message{.kind = Message::Kind::response, .id = *id};
    }
    return reject(ErrorCode::invalid_request, "a request needs a \"method\" string");
  }
  if (!method->is_string() || method->as_string().empty()) {
    return reject(ErrorCode::invalid_request, "\"method\" must be a non-empty string");
  }
  Message m;
  m.kind = id != nullptr ? Message::Kind::request : Message::Kind::notification;
  if (id != nullptr) m.id = *id;
  m.method = std::string(method->as_string());
  if (auto* params = o.if_contains("params")) {
    if (!params->is_object()) {
      // A malformed notification gets no reply (JSON-RPC section 4.1).
      if (id == nullptr) return Rejected{};
      return reject(ErrorCode::invalid_params, "\"params\" must be a JSON object");
    }
    m.params = std::move(params->as_object());
  }
  return m;
}

}  // namespace

Payload parse_payload(std::string_view text) {
  Payload out;
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    out.items.emplace_back(Rejected{make_error(nullptr, ErrorCode::parse_error,
                                               "the message is not valid JSON: " + ec.message())});
    return out;
  }
  if (!v.is_array()) {
    out.items.push_back(check(v));
    return out;
  }
  auto& array = v.as_array();
  if (array.empty()) {
    // JSON-RPC answers an empty array with one error object, not an array of them.
    out.items.emplace_back(
        Rejected{make_error(nullptr, ErrorCode::invalid_request, "a batch must not be empty")});
    return out;
  }
  out.batch = true;
  for (auto& element : array) out.items.push_back(check(element));
  return out;
}

json::object make_result(const json::value& id, json::value result) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["result"] = std::move(result);
  return o;
}

json::object make_error(const json::value& id, ErrorCode code, std::string message,
                        json::value data) {
  json::object error;
  error["code"] = static_cast<int>(code);
  error["message"] = std::move(message);
  if (!data.is_null()) error["data"] = std::move(data);
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(error);
  return o;
}

}  // namespace tiercache::server::mcp
