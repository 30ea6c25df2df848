#include "tiercache/resp/reply.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>

namespace tiercache::resp {
namespace {

const Node kNullNode{};

bool has_payload(Type type) noexcept {
  switch (type) {
    case Type::simple_string:
    case Type::simple_error:
    case Type::double_:
    case Type::big_number:
    case Type::blob_string:
    case Type::blob_error:
    case Type::verbatim_string:
      return true;
    default:
      return false;
  }
}

// Nodes of the element that starts at nodes[0]: its leading attributes and its value.
std::size_t element_extent(std::span<const Node> nodes) noexcept {
  std::size_t i = 0;
  while (i < nodes.size()) {
    const std::size_t span = static_cast<std::size_t>(std::max<std::uint64_t>(nodes[i].span, 1));
    if (nodes[i].type != Type::attribute || i + span >= nodes.size()) {
      return std::min(i + span, nodes.size());
    }
    i += span;
  }
  return nodes.size();
}

double parse_number(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return value;
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void render(std::string& out, ReplyView v) {
  if (const ReplyView attr = v.attribute(); attr.type() == Type::attribute) {
    out += "(attr ";
    render(out, attr);
    out += ") ";
  }
  const auto elements = [&](std::string_view open, std::string_view close, bool pairs) {
    out += open;
    std::size_t i = 0;
    for (const ReplyView e : v) {
      if (i > 0) out += (pairs && i % 2 == 1) ? ": " : ", ";
      render(out, e);
      ++i;
    }
    out += close;
  };
  switch (v.type()) {
    case Type::simple_string:
    case Type::blob_string:
    case Type::verbatim_string:
      append_quoted(out, v.str());
      break;
    case Type::simple_error:
    case Type::blob_error:
      out += "(error) ";
      out += v.str();
      break;
    case Type::integer:
      out += std::to_string(v.integer());
      break;
    case Type::double_:
    case Type::big_number:
      out += v.str();
      break;
    case Type::boolean:
      out += v.boolean() ? "true" : "false";
      break;
    case Type::null:
      out += "nil";
      break;
    case Type::array:
      elements("[", "]", false);
      break;
    case Type::set:
      elements("~[", "]", false);
      break;
    case Type::push:
      elements(">[", "]", false);
      break;
    case Type::map:
    case Type::attribute:
      elements("{", "}", true);
      break;
  }
}

}  // namespace

std::string_view to_string(Type type) noexcept {
  switch (type) {
    case Type::simple_string:
      return "simple_string";
    case Type::simple_error:
      return "simple_error";
    case Type::integer:
      return "integer";
    case Type::double_:
      return "double";
    case Type::boolean:
      return "boolean";
    case Type::big_number:
      return "big_number";
    case Type::null:
      return "null";
    case Type::blob_string:
      return "blob_string";
    case Type::blob_error:
      return "blob_error";
    case Type::verbatim_string:
      return "verbatim_string";
    case Type::array:
      return "array";
    case Type::map:
      return "map";
    case Type::set:
      return "set";
    case Type::attribute:
      return "attribute";
    case Type::push:
      return "push";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, Type type) { return os << to_string(type); }

// ---- ReplyView

std::size_t ReplyView::root_index_slow() const noexcept {
  const std::size_t extent = element_extent(nodes_);
  if (extent == 0) return 0;
  std::size_t i = 0;
  while (nodes_[i].type == Type::attribute && i + nodes_[i].span < extent) {
    i += static_cast<std::size_t>(nodes_[i].span);
  }
  return i;
}

const Node& ReplyView::root_slow() const noexcept {
  if (nodes_.empty()) return kNullNode;
  return nodes_[root_index()];
}

bool ReplyView::is_error() const noexcept {
  const Type t = type();
  return t == Type::simple_error || t == Type::blob_error;
}

std::string_view ReplyView::str() const noexcept {
  const Node& n = root();
  if (!has_payload(n.type) || base_ == nullptr) return {};
  std::string_view s(base_ + n.offset, static_cast<std::size_t>(n.length));
  if (n.type == Type::verbatim_string) s.remove_prefix(std::min<std::size_t>(4, s.size()));
  return s;
}

double ReplyView::number() const noexcept {
  const Node& n = root();
  switch (n.type) {
    case Type::double_:
      return std::bit_cast<double>(n.integer);
    case Type::integer:
      return static_cast<double>(n.integer);
    case Type::simple_string:
    case Type::blob_string:
    case Type::verbatim_string:
    case Type::big_number:
      return parse_number(str());
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

std::size_t ReplyView::size() const noexcept {
  const Node& n = root();
  return resp::is_aggregate(n.type) ? static_cast<std::size_t>(n.size) : 0;
}

ReplyView ReplyView::at(std::size_t i) const noexcept {
  auto it = begin();
  const auto last = end();
  for (; it != last && i > 0; --i) ++it;
  return it == last ? ReplyView{} : *it;
}

ReplyView ReplyView::attribute() const noexcept {
  if (nodes_.empty() || nodes_[0].type != Type::attribute || root_index() == 0) return {};
  const std::size_t span = static_cast<std::size_t>(nodes_[0].span);
  return ReplyView(base_, nodes_.first(std::min(span, nodes_.size())));
}

std::size_t ReplyView::Iterator::element_span_slow() const noexcept {
  return element_extent(rest_);
}

bool operator==(ReplyView a, ReplyView b) noexcept {
  const auto an = a.nodes();
  const auto bn = b.nodes();
  if (an.size() != bn.size()) return false;
  for (std::size_t i = 0; i < an.size(); ++i) {
    const Node& x = an[i];
    const Node& y = bn[i];
    if (x.type != y.type || x.size != y.size || x.span != y.span || x.integer != y.integer ||
        x.length != y.length) {
      return false;
    }
    if (x.length > 0 &&
        !std::equal(a.base() + x.offset, a.base() + x.offset + x.length, b.base() + y.offset)) {
      return false;
    }
  }
  return true;
}

// ---- Reply

Reply::Reply(std::size_t nodes, std::size_t bytes)
    : block_(nodes + bytes == 0 ? nullptr : new std::byte[nodes * sizeof(Node) + bytes]),
      node_count_(nodes),
      byte_count_(bytes) {}

Reply::Reply(ReplyView view) {
  const std::span<const Node> nodes = view.nodes();
  if (nodes.empty()) return;
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t hi = 0;
  for (const Node& n : nodes) {
    if (n.length == 0) continue;
    lo = std::min(lo, n.offset);
    hi = std::max(hi, n.offset + n.length);
  }
  const std::size_t bytes = hi > 0 ? static_cast<std::size_t>(hi - lo) : 0;
  Reply out(nodes.size(), bytes);
  std::memcpy(out.nodes_data(), nodes.data(), nodes.size_bytes());
  if (bytes > 0) std::memcpy(out.bytes_data(), view.base() + lo, bytes);
  const std::uint32_t depth = nodes.front().depth;
  for (Node& n : std::span(out.nodes_data(), out.node_count_)) {
    n.offset = n.length == 0 ? 0 : n.offset - lo;
    n.depth -= std::min(depth, n.depth);
  }
  *this = std::move(out);
}

Reply::Reply(const Reply& other) : Reply(other.node_count_, other.byte_count_) {
  if (block_)
    std::memcpy(block_.get(), other.block_.get(), node_count_ * sizeof(Node) + byte_count_);
}

Reply& Reply::operator=(const Reply& other) {
  if (this != &other) *this = Reply(other);
  return *this;
}

Reply Reply::array_of(std::span<const Reply> elements) {
  std::size_t nodes = 1;
  std::size_t bytes = 0;
  for (const Reply& e : elements) {
    nodes += std::max<std::size_t>(e.node_count_, 1);
    bytes += e.byte_count_;
  }
  Reply out(nodes, bytes);
  Node* node = out.nodes_data();
  char* byte = out.bytes_data();
  *node++ = Node{.type = Type::array, .size = elements.size(), .span = nodes};
  for (const Reply& e : elements) {
    if (e.node_count_ == 0) {
      *node++ = Node{.type = Type::null, .depth = 1};
      continue;
    }
    const auto shift = static_cast<std::uint64_t>(byte - out.bytes_data());
    for (Node n : std::span(e.nodes_data(), e.node_count_)) {
      n.depth += 1;
      if (n.length > 0) n.offset += shift;
      *node++ = n;
    }
    if (e.byte_count_ > 0) std::memcpy(byte, e.bytes_data(), e.byte_count_);
    byte += e.byte_count_;
  }
  return out;
}

std::string to_display(ReplyView reply) {
  std::string out;
  render(out, reply);
  return out;
}

std::ostream& operator<<(std::ostream& os, ReplyView reply) { return os << to_display(reply); }

}  // namespace tiercache::resp
