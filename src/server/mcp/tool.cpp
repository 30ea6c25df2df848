// The tool registry and the argument check. The check knows the JSON Schema keywords our tools'
// schemas use (type, properties, required, additionalProperties: false, enum, minLength,
// maxLength, minimum, maximum, items, minItems, maxItems) and ignores the rest (description,
// examples, pattern), so a schema may say more to the model than is checked here; the handler
// checks the meaning (a key's characters, a duration's syntax) with the REST API's readers.

#include "server/mcp/tool.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <stdexcept>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;

bool valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string_view type_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "unknown";
}

bool has_type(const json::value& v, std::string_view type) {
  if (type == "number") return v.is_number();
  if (type == "integer" && v.is_double()) {
    const double d = v.as_double();
    return d == static_cast<double>(static_cast<std::int64_t>(d));
  }
  return type_of(v) == type;
}

double number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return v.as_double();
}

std::optional<std::string> check_value(const json::object& schema, const json::value& v,
                                       const std::string& where) {
  if (const auto* type = schema.if_contains("type"); type != nullptr && type->is_string()) {
    if (!has_type(v, type->as_string())) {
      return where + " must be " +
             (type->as_string() == "integer" || type->as_string() == "array" ? "an " : "a ") +
             std::string(type->as_string()) + ", not " + std::string(type_of(v));
    }
  }
  if (const auto* values = schema.if_contains("enum"); values != nullptr && values->is_array()) {
    const auto& list = values->as_array();
    if (std::find(list.begin(), list.end(), v) == list.end()) {
      return where + " must be one of " + json::serialize(list);
    }
  }
  if (v.is_string()) {
    const auto size = v.as_string().size();
    if (const auto* min = schema.if_contains("minLength"); min != nullptr && min->is_number()) {
      if (static_cast<double>(size) < number_of(*min)) {
        return where + " must be at least " + json::serialize(*min) + " character(s) long";
      }
    }
    if (const auto* max = schema.if_contains("maxLength"); max != nullptr && max->is_number()) {
      if (static_cast<double>(size) > number_of(*max)) {
        return where + " must be at most " + json::serialize(*max) + " bytes long";
      }
    }
  }
  if (v.is_number()) {
    if (const auto* min = schema.if_contains("minimum"); min != nullptr && min->is_number()) {
      if (number_of(v) < number_of(*min)) return where + " must be >= " + json::serialize(*min);
    }
    if (const auto* max = schema.if_contains("maximum"); max != nullptr && max->is_number()) {
      if (number_of(v) > number_of(*max)) return where + " must be <= " + json::serialize(*max);
    }
  }
  if (v.is_array()) {
    const auto& a = v.as_array();
    if (const auto* min = schema.if_contains("minItems"); min != nullptr && min->is_number()) {
      if (static_cast<double>(a.size()) < number_of(*min)) {
        return where + " must have at least " + json::serialize(*min) + " item(s)";
      }
    }
    if (const auto* max = schema.if_contains("maxItems"); max != nullptr && max->is_number()) {
      if (static_cast<double>(a.size()) > number_of(*max)) {
        return where + " must have at most " + json::serialize(*max) + " items";
      }
    }
    if (const auto* items = schema.if_contains("items"); items != nullptr && items->is_object()) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (auto e = check_value(items->as_object(), a[i], where + "[" + std::to_string(i) + "]")) {
          return e;
        }
      }
    }
  }
  if (v.is_object()) {
    const auto& o = v.as_object();
    const auto* props = schema.if_contains("properties");
    const json::object empty;
    const json::object& properties =
        props != nullptr && props->is_object() ? props->as_object() : empty;
    const std::string prefix = where.empty() ? "" : where + ".";
    if (const auto* required = schema.if_contains("required");
        required != nullptr && required->is_array()) {
      for (const auto& name : required->as_array()) {
        if (name.is_string() && !o.contains(name.as_string())) {
          return "missing required argument '" + prefix + std::string(name.as_string()) + "'";
        }
      }
    }
    const auto* extra = schema.if_contains("additionalProperties");
    const bool closed = extra != nullptr && extra->is_bool() && !extra->as_bool();
    for (const auto& member : o) {
      const auto* sub = properties.if_contains(member.key());
      if (sub == nullptr) {
        if (!closed) continue;
        std::string known;
        for (const auto& p : properties)
          known += (known.empty() ? "" : ", ") + std::string(p.key());
        return "unknown argument '" + prefix + std::string(member.key()) + "' (known: " + known +
               ")";
      }
      if (!sub->is_object()) continue;
      if (auto e =
              check_value(sub->as_object(), member.value(), prefix + std::string(member.key()))) {
        return e;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

CallContext::CallContext(json::value progress_token, Sender send)
    : token_(std::move(progress_token)), send_(std::move(send)) {}

void CallContext::progress(double progress, std::optional<double> total, std::string message) {
  if (!wants_progress()) return;
  double last = last_.load(std::memory_order_relaxed);
  do {
    if (!(progress > last)) return;
  } while (!last_.compare_exchange_weak(last, progress, std::memory_order_relaxed));
  json::object params{{"progressToken", token_}, {"progress", progress}};
  if (total) params["total"] = *total;
  if (!message.empty()) params["message"] = std::move(message);
  send_(json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"method", "notifications/progress"}, {"params", std::move(params)}}));
}

ToolResult ToolResult::ok(json::object structured) {
  return ToolResult{.structured = std::move(structured)};
}

ToolResult ToolResult::error(std::string message) {
  return ToolResult{.text = std::move(message), .is_error = true};
}

void ToolRegistry::add(Tool tool) {
  if (!valid_tool_name(tool.name) || !tool.handler || find(tool.name) != nullptr) {
    throw std::invalid_argument("ToolRegistry::add: bad, duplicate or handler-less tool '" +
                                tool.name + "'");
  }
  tools_.push_back(std::move(tool));
}

const Tool* ToolRegistry::find(std::string_view name) const {
  for (const auto& t : tools_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<std::string> check_arguments(const json::object& schema,
                                           const json::value& arguments) {
  if (!arguments.is_object()) {
    return "the arguments must be a JSON object, not " + std::string(type_of(arguments));
  }
  return check_value(schema, arguments, "");
}

}  // namespace tiercache::server::mcp
