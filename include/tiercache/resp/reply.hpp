#pragma once
// Reply: one decoded RESP3 reply, a tree flattened in pre-order. ReplyView borrows one from the
// bytes it was parsed from (the reader's buffer); Reply owns a copy and is a plain value.
// Use: if (r.is_error()) ...; r.type() == Type::blob_string ? r.str() : ...; for (auto e : r) ...
// A Redis error reply is a value (is_error()), not a transport failure. Nil is Type::null.
// Thread-safety: immutable; a ReplyView is valid as long as the bytes and nodes it borrows.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::resp {

// The RESP3 types (https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md).
// RESP2 replies use the first subset: simple_string, simple_error, integer, blob_string, array
// and null (RESP2's nil bulk and nil array both decode to null).
enum class Type : std::uint8_t {
  simple_string,    // +OK
  simple_error,     // -ERR message
  integer,          // :42
  double_,          // ,3.14   (also inf, -inf, nan)
  boolean,          // #t
  big_number,       // (3492890328409238509324850943850943825024385
  null,             // _   (and RESP2's $-1 and *-1)
  blob_string,      // $5 hello
  blob_error,       // !21 SYNTAX invalid syntax
  verbatim_string,  // =15 txt:Some string
  array,            // *2 ...
  map,              // %1 key value
  set,              // ~2 ...
  attribute,        // |1 key value, then the value it annotates
  push,             // >3 invalidate ...  (out of band: never a reply to a command)
};

std::string_view to_string(Type type) noexcept;
std::ostream& operator<<(std::ostream& os, Type type);

// array, map, set, attribute, push
inline bool is_aggregate(Type type) noexcept { return type >= Type::array; }

// One node of the flattened tree. Byte positions are offsets from the first byte of the reply,
// so a copy of the reply's bytes carries its nodes along unchanged.
//
// Attributes. An attribute (|N) annotates the value after it. It stays in the tree as a subtree
// placed right before that value, at the same depth: [attribute, its keys and values..., value,
// the value's children...]. An *element* is thus zero or more attribute subtrees followed by one
// value subtree. A parent's `size` counts elements only; its `span` covers the attributes too.
// size(), at() and iteration step over whole elements, so attributes never show; attribute()
// returns the one in front of a value. A view of an attribute subtree alone is the attribute
// itself (type() == Type::attribute, iterated like a map).
struct Node {
  Type type = Type::null;
  std::uint32_t depth = 0;  // 0 for the root
  // Aggregates: the number of child elements (a map or attribute counts 2 per entry, key and
  // value).
  std::uint64_t size = 0;
  // Number of nodes in this node's subtree, itself included: the next sibling is at index + span.
  std::uint64_t span = 1;
  // Strings, errors, big numbers, doubles: the payload bytes (a verbatim string's payload keeps
  // its 3-letter format and colon; use ReplyView::str() for the text alone). 0 for other types.
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  // Integers and booleans (0/1): the value, parsed once. Doubles: the bits of the value
  // (std::bit_cast<double>), parsed once; ReplyView::number() reads it.
  std::int64_t integer = 0;

  friend bool operator==(const Node&, const Node&) = default;
};

// A borrowed reply: one root node and its subtree, plus the bytes the nodes point into.
// An empty view (no nodes) reads as null. Attributes: see Node.
class ReplyView {
 public:
  ReplyView() = default;
  // REQUIRES: nodes is a well-formed subtree (as the Reader produces); base is the reply's first
  // byte.
  ReplyView(const char* base, std::span<const Node> nodes) noexcept : base_(base), nodes_(nodes) {}

  Type type() const noexcept { return root().type; }
  bool is_error() const noexcept;  // simple_error or blob_error
  bool is_null() const noexcept { return type() == Type::null; }
  bool is_aggregate() const noexcept { return resp::is_aggregate(type()); }

  // String-like payload: simple/blob/verbatim strings (text only), errors, big numbers, doubles.
  // Empty for every other type.
  std::string_view str() const noexcept;
  // REQUIRES: type() is integer or boolean.
  std::int64_t integer() const noexcept { return root().integer; }
  bool boolean() const noexcept { return root().integer != 0; }
  // A double's value; also parses integers and numeric strings. NaN when it is not a number.
  double number() const noexcept;

  // Aggregates: element count (a map counts keys and values); 0 for everything else.
  std::size_t size() const noexcept;
  // REQUIRES: i < size() (otherwise: an empty view). Linear in the nodes before element i.
  ReplyView at(std::size_t i) const noexcept;
  // The attribute that annotates this value, or an empty view (type() == null, size() == 0).
  ReplyView attribute() const noexcept;

  class Iterator;
  Iterator begin() const noexcept;
  Iterator end() const noexcept;

  // The whole subtree (with the attributes in front of the value), for copying into a Reply.
  std::span<const Node> nodes() const noexcept { return nodes_; }
  const char* base() const noexcept { return base_; }

 private:
  // Index of the value node: past leading attributes.
  std::size_t root_index() const noexcept {
    return !nodes_.empty() && nodes_[0].type == Type::attribute ? root_index_slow() : 0;
  }
  std::size_t root_index_slow() const noexcept;
  std::size_t subtree_end(std::size_t r) const noexcept;  // one past the subtree at r
  const Node& root() const noexcept {
    if (!nodes_.empty() && nodes_[0].type != Type::attribute) [[likely]]
      return nodes_[0];
    return root_slow();
  }
  const Node& root_slow() const noexcept;

  const char* base_ = nullptr;
  std::span<const Node> nodes_;
};

// Forward iterator over the elements of an aggregate, each a ReplyView of its subtree (with the
// attributes in front of it).
class ReplyView::Iterator {
 public:
  using value_type = ReplyView;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  Iterator(const char* base, std::span<const Node> rest) noexcept : base_(base), rest_(rest) {}
  ReplyView operator*() const noexcept { return ReplyView(base_, rest_.first(element_span())); }
  Iterator& operator++() noexcept {
    rest_ = rest_.subspan(element_span());
    return *this;
  }
  Iterator operator++(int) noexcept {
    Iterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
    return a.rest_.data() == b.rest_.data();
  }

 private:
  // Nodes of the current element (its attributes and its value).
  std::size_t element_span() const noexcept {
    if (!rest_.empty() && rest_[0].type != Type::attribute && rest_[0].span - 1 < rest_.size()) {
      [[likely]] return static_cast<std::size_t>(rest_[0].span);
    }
    return element_span_slow();
  }
  std::size_t element_span_slow() const noexcept;

  const char* base_ = nullptr;
  std::span<const Node> rest_;  // from the current element to the end of the parent's subtree
};

inline std::size_t ReplyView::subtree_end(std::size_t r) const noexcept {
  const std::uint64_t span = nodes_[r].span;
  return span - 1 < nodes_.size() - r ? r + static_cast<std::size_t>(span) : nodes_.size();
}

inline ReplyView::Iterator ReplyView::begin() const noexcept {
  if (nodes_.empty()) return {};
  const std::size_t r = root_index();
  const std::size_t last = subtree_end(r);
  if (!resp::is_aggregate(nodes_[r].type)) return Iterator(base_, nodes_.subspan(last, 0));
  return Iterator(base_, nodes_.subspan(r + 1, last - (r + 1)));
}

inline ReplyView::Iterator ReplyView::end() const noexcept {
  if (nodes_.empty()) return {};
  return Iterator(base_, nodes_.subspan(subtree_end(root_index()), 0));
}

// An owned reply: its nodes and the bytes they cover in one allocation (none for a default
// Reply, which reads as null). Moving it moves a pointer; copying copies the block.
class Reply {
 public:
  Reply() = default;
  // Copies the view's bytes (only the span its nodes cover) and nodes; depths restart at 0.
  explicit Reply(ReplyView view);
  // A synthetic array whose elements are the given replies: what a multi-command Request yields.
  // A default (empty) Reply becomes a null element.
  static Reply array_of(std::span<const Reply> elements);

  Reply(const Reply& other);
  Reply& operator=(const Reply& other);
  Reply(Reply&& other) noexcept
      : block_(std::move(other.block_)),
        node_count_(std::exchange(other.node_count_, 0)),
        byte_count_(std::exchange(other.byte_count_, 0)) {}
  Reply& operator=(Reply&& other) noexcept {
    block_ = std::move(other.block_);
    node_count_ = std::exchange(other.node_count_, 0);
    byte_count_ = std::exchange(other.byte_count_, 0);
    return *this;
  }
  ~Reply() = default;

  ReplyView view() const noexcept { return ReplyView(bytes_data(), {nodes_data(), node_count_}); }
  operator ReplyView() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)

  Type type() const noexcept { return view().type(); }
  bool is_error() const noexcept { return view().is_error(); }
  bool is_null() const noexcept { return view().is_null(); }
  bool is_aggregate() const noexcept { return view().is_aggregate(); }
  std::string_view str() const noexcept { return view().str(); }
  std::int64_t integer() const noexcept { return view().integer(); }
  bool boolean() const noexcept { return view().boolean(); }
  double number() const noexcept { return view().number(); }
  std::size_t size() const noexcept { return view().size(); }
  ReplyView at(std::size_t i) const noexcept { return view().at(i); }
  ReplyView attribute() const noexcept { return view().attribute(); }
  ReplyView::Iterator begin() const noexcept { return view().begin(); }
  ReplyView::Iterator end() const noexcept { return view().end(); }

  // The copied payload bytes (what the nodes cover, no framing).
  std::string_view bytes() const noexcept { return {bytes_data(), byte_count_}; }

 private:
  // Allocates the block for `nodes` nodes and `bytes` bytes, uninitialized.
  Reply(std::size_t nodes, std::size_t bytes);
  Node* nodes_data() const noexcept { return reinterpret_cast<Node*>(block_.get()); }
  char* bytes_data() const noexcept {
    return reinterpret_cast<char*>(block_.get()) + node_count_ * sizeof(Node);
  }

  std::unique_ptr<std::byte[]> block_;  // node_count_ nodes, then byte_count_ bytes
  std::size_t node_count_ = 0;
  std::size_t byte_count_ = 0;
};

// Same tree: types, sizes, payload bytes and values, attributes included (offsets and depths may
// differ, so a Reply equals the view it was copied from). Also compares Reply with Reply.
bool operator==(ReplyView a, ReplyView b) noexcept;

// Renders a reply for logs and test failures: "[\"a\", 1, nil]", "(error) ERR ...",
// {"k": 1} for maps, ~["a"] for sets, >["invalidate", ...] for pushes, (attr {...}) before a value.
// Binary bytes are escaped (\r, \n, \xNN).
std::string to_display(ReplyView reply);
std::ostream& operator<<(std::ostream& os, ReplyView reply);

}  // namespace tiercache::resp
