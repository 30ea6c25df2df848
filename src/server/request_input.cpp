#include "server/request_input.hpp"

#include "server/units.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

namespace tiercache::server {
namespace {

using cache::Priority;
using cache::WriteOptions;

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    auto comma = text.find(',', i);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(i, comma - i);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    out.push_back(item);
    i = comma + 1;
  }
  return out;
}

std::optional<Priority> priority_of(std::string_view text) {
  if (text == "low") return Priority::low;
  if (text == "normal") return Priority::normal;
  if (text == "high") return Priority::high;
  return std::nullopt;
}

// One option's value from the query or its header; error when in both or repeated.
std::variant<std::optional<std::string>, ApiError> single(const Request& req, const Match& m,
                                                          std::string_view name,
                                                          std::string_view header) {
  const auto values = m.query_all(name);
  const auto h = req.find(header);
  if (values.size() > 1) {
    return ApiError::bad_request("invalid_argument",
                                 "query parameter '" + std::string(name) + "' given twice");
  }
  if (!values.empty() && h != req.end()) {
    return ApiError::bad_request("invalid_argument", "'" + std::string(name) +
                                                         "' given both as query parameter and " +
                                                         std::string(header) + " header");
  }
  if (!values.empty()) return std::optional<std::string>(std::string(values.front()));
  if (h != req.end()) return std::optional<std::string>(std::string(h->value()));
  return std::optional<std::string>();
}

}  // namespace

std::optional<ApiError> check_key(std::string_view key) {
  if (key.empty()) return ApiError::bad_request("invalid_key", "the key is empty");
  if (key.size() > 1024) {
    return ApiError::bad_request("invalid_key", "the key is longer than 1024 bytes");
  }
  if (has_control(key)) {
    return ApiError::bad_request("invalid_key", "the key contains control characters");
  }
  std::size_t i = 0;
  while (i <= key.size()) {
    auto slash = key.find('/', i);
    if (slash == std::string_view::npos) slash = key.size();
    const auto segment = key.substr(i, slash - i);
    if (segment == "." || segment == "..") {
      return ApiError::bad_request("invalid_key", "the key contains a '.' or '..' path segment");
    }
    i = slash + 1;
  }
  return std::nullopt;
}

std::optional<ApiError> check_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 256 || has_control(tag) ||
      tag.find(',') != std::string_view::npos) {
    return ApiError::bad_request("invalid_tag",
                                 "a tag is 1-256 bytes without control characters or commas");
  }
  return std::nullopt;
}

std::variant<std::chrono::milliseconds, ApiError> read_ttl(std::string_view text,
                                                           std::string_view field,
                                                           const NamespaceConfig& ns, bool grace) {
  const auto d = parse_duration(text);
  const std::string code = grace ? "invalid_grace" : "invalid_ttl";
  if (!d) {
    return ApiError::bad_request(code, std::string(field) + " '" + std::string(text) +
                                           "' is not a duration (as 90s, 10m, 1h30m, 500ms)");
  }
  if (!grace && d->count() == 0) {
    return ApiError::bad_request(code, std::string(field) + " must be greater than 0");
  }
  if (*d > ns.max_ttl) {
    return ApiError::bad_request(code, std::string(field) + " " + std::string(text) +
                                           " exceeds this namespace's max_ttl (" +
                                           format_duration(ns.max_ttl) + ")");
  }
  return *d;
}

namespace {

// ttl, grace and priority into opts, each read by text(name) (the query and its header, or a
// JSON member), in that order: the first bad one is the error.
template <class Text>
std::optional<ApiError> read_scalar_options(Text text, const NamespaceConfig& ns,
                                            WriteOptions& opts) {
  for (const bool grace : {false, true}) {
    const std::string_view name = grace ? "grace" : "ttl";
    auto given = text(name);
    if (auto* e = std::get_if<ApiError>(&given)) return *e;
    if (const auto& t = std::get<0>(given)) {
      auto d = read_ttl(*t, name, ns, grace);
      if (auto* e = std::get_if<ApiError>(&d)) return *e;
      (grace ? opts.grace : opts.ttl) = std::get<0>(d);
    }
  }
  auto priority = text("priority");
  if (auto* e = std::get_if<ApiError>(&priority)) return *e;
  if (const auto& p = std::get<0>(priority)) {
    const auto value = priority_of(*p);
    if (!value) {
      return ApiError::bad_request("invalid_priority",
                                   "priority '" + *p + "' is not low, normal or high");
    }
    opts.priority = *value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> no_query(const Match& m) {
  if (!m.query.empty()) {
    return ApiError::bad_request("unknown_parameter",
                                 "unknown query parameter '" + m.query.front().first + "'");
  }
  return std::nullopt;
}

std::variant<WriteOptions, ApiError> read_write_options(const Request& req, const Match& m,
                                                        const NamespaceConfig& ns) {
  static constexpr std::string_view kKnown[] = {"ttl",        "grace",        "tag",     "tags",
                                                "dependency", "dependencies", "priority"};
  for (const auto& [name, value] : m.query) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      return ApiError::bad_request("unknown_parameter", "unknown query parameter '" + name +
                                                            "' (known: ttl, grace, tag, tags, "
                                                            "dependency, dependencies, priority)");
    }
  }
  WriteOptions opts;
  const auto from_request = [&](std::string_view name) {
    const std::string_view header = name == "ttl"     ? "X-Cache-TTL"
                                    : name == "grace" ? "X-Cache-Grace"
                                                      : "X-Cache-Priority";
    return single(req, m, name, header);
  };
  if (auto e = read_scalar_options(from_request, ns, opts)) return *e;

  // Lists: repeated singular parameters, comma lists, and the header; not both query and header.
  const auto list = [&](std::string_view one, std::string_view many, std::string_view header,
                        std::vector<std::string>& out) -> std::optional<ApiError> {
    std::vector<std::string_view> items = m.query_all(one);
    for (const auto v : m.query_all(many)) {
      for (const auto item : split_list(v)) items.push_back(item);
    }
    const auto h = req.find(header);
    if (h != req.end()) {
      if (!items.empty()) {
        return ApiError::bad_request("invalid_argument", std::string(many) +
                                                             " given both in the query and the " +
                                                             std::string(header) + " header");
      }
      for (const auto item : split_list(h->value())) items.push_back(item);
    }
    for (const auto item : items) out.emplace_back(item);
    return std::nullopt;
  };
  if (auto e = list("tag", "tags", "X-Cache-Tags", opts.tags)) return *e;
  if (auto e = list("dependency", "dependencies", "X-Cache-Dependencies", opts.dependencies)) {
    return *e;
  }
  if (opts.tags.size() > 64 || opts.dependencies.size() > 64) {
    return ApiError::bad_request("invalid_argument", "at most 64 tags and 64 dependencies");
  }
  for (const auto& t : opts.tags) {
    if (auto e = check_tag(t)) return *e;
  }
  for (const auto& d : opts.dependencies) {
    if (auto e = check_key(d)) {
      return ApiError::bad_request("invalid_dependency", "dependency: " + e->message);
    }
  }
  return opts;
}

std::variant<boost::json::object, ApiError> read_json_object(
    std::string_view body, std::initializer_list<std::string_view> allowed) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) {
    return ApiError::bad_request("malformed_json", "the body is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) {
    return ApiError::bad_request("malformed_json", "the body must be a JSON object");
  }
  for (const auto& member : v.as_object()) {
    const std::string_view key = member.key();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (const auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      return ApiError::bad_request(
          "unknown_field", "unknown field '" + std::string(key) + "' (known: " + known + ")");
    }
  }
  return std::move(v.as_object());
}

std::variant<std::vector<std::string>, ApiError> string_array(const boost::json::value& v,
                                                              std::string_view field,
                                                              std::size_t max) {
  if (!v.is_array()) {
    return ApiError::bad_request("invalid_argument",
                                 std::string(field) + " must be an array of strings");
  }
  if (v.as_array().size() > max) {
    return ApiError::bad_request("invalid_argument", std::string(field) + " has more than " +
                                                         std::to_string(max) + " items");
  }
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) {
      return ApiError::bad_request("invalid_argument",
                                   std::string(field) + " must be an array of strings");
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

std::variant<WriteOptions, ApiError> json_write_options(const boost::json::object& obj,
                                                        const NamespaceConfig& ns) {
  WriteOptions opts;
  const auto text =
      [&](std::string_view name) -> std::variant<std::optional<std::string>, ApiError> {
    const auto* v = obj.if_contains(name);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) {
      return ApiError::bad_request("invalid_argument", std::string(name) + " must be a string");
    }
    return std::optional<std::string>(std::string(v->as_string()));
  };
  if (auto e = read_scalar_options(text, ns, opts)) return *e;
  if (const auto* v = obj.if_contains("tags")) {
    auto tags = string_array(*v, "tags", 64);
    if (auto* e = std::get_if<ApiError>(&tags)) return *e;
    opts.tags = std::move(std::get<0>(tags));
    for (const auto& t : opts.tags) {
      if (auto e = check_tag(t)) return *e;
    }
  }
  if (const auto* v = obj.if_contains("dependencies")) {
    auto deps = string_array(*v, "dependencies", 64);
    if (auto* e = std::get_if<ApiError>(&deps)) return *e;
    opts.dependencies = std::move(std::get<0>(deps));
    for (const auto& d : opts.dependencies) {
      if (auto e = check_key(d)) {
        return ApiError::bad_request("invalid_dependency", "dependency: " + e->message);
      }
    }
  }
  return opts;
}

}  // namespace tiercache::server
