#pragma once
// JSON-RPC 2.0 as MCP uses it, sans-io: one payload (a message, or a batch where the protocol
// version allows it) into checked messages, and the reply objects back. A message that breaks
// the rules becomes its error reply here, with the id it carried when that id was usable.
// Use: auto p = parse_payload(text); for (auto& item : p.items) ... std::get_if<Message>(&item)
// Thread-safety: pure functions and plain values.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tiercache::server::mcp {

// The error codes of JSON-RPC 2.0, section 5.1.
enum class ErrorCode : int {
  parse_error = -32700,
  invalid_request = -32600,
  method_not_found = -32601,
  invalid_params = -32602,
  internal_error = -32603,
};

// One checked message. MCP ids are strings or integers, never null (basic/index "Requests").
struct Message {
  enum class Kind { request, notification, response };
  Kind kind = Kind::request;
  boost::json::value id{};  // null for a notification
  std::string method{};     // empty for a response
  boost::json::object params{};
};

// A message that could not be accepted, as the error reply to send (null when it was a
// malformed notification: JSON-RPC answers none).
struct Rejected {
  boost::json::value reply{};
};

struct Payload {
  // Whether the payload was a non-empty JSON array (an empty one is one error in `items`).
  bool batch = false;
  std::vector<std::variant<Message, Rejected>> items{};
};

// Parses one payload. Not JSON -> one Rejected with -32700; not an object (or array of them)
// -> -32600; inside a batch each element is checked on its own. The caller refuses batches
// where the negotiated protocol version has none (2025-06-18 removed them).
// REQUIRES: the caller has bounded text's size.
Payload parse_payload(std::string_view text);

boost::json::object make_result(const boost::json::value& id, boost::json::value result);
boost::json::object make_error(const boost::json::value& id, ErrorCode code, std::string message,
                               boost::json::value data = nullptr);

}  // namespace tiercache::server::mcp
