#pragma once
// Reply: one decoded RESP3 reply, a tree flattened in pre-order. ReplyView borrows one from the
// bytes it was parsed from (the reader's buffer); Reply owns a copy and is a plain value.
// Use: if (r.is_error()) ...; r.type() == Type::blob_string ? r.str() : ...; for (auto e : r) ...
// A Redis error reply is a value (is_error()), not a transport failure. Nil is Type::null.
// Thread-safety: immutable; a ReplyView is valid as long as the bytes and nodes it borrows.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
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

bool is_aggregate(Type type) noexcept;  // array, map, set, attribute, push

// One node of the flattened tree. Byte positions are offsets from the first byte of the reply,
// so a copy of the reply's bytes carries its nodes along unchanged.
struct Node {
  Type type = Type::null;
  std::uint32_t depth = 0;  // 0 for the root
  // Aggregates: the number of child elements (a map or attribute counts 2 per entry, key and value).
  std::uint64_t size = 0;
  // Number of nodes in this node's subtree, itself included: the next sibling is at index + span.
  std::uint64_t span = 1;
  // Strings, errors, big numbers, doubles: the payload bytes (a verbatim string's payload keeps
  // its 3-letter format and colon; use ReplyView::str() for the text alone).
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  // Integers and booleans (0/1): the value, parsed once.
  std::int64_t integer = 0;
};

// A borrowed reply: one root node and its subtree, plus the bytes the nodes point into.
// Attributes that annotate a value are kept in the tree, skipped by size() and iteration;
// attribute() returns them.
class ReplyView {
 public:
  ReplyView() = default;
  // REQUIRES: nodes is a well-formed subtree (as the Reader produces); base is the reply's first byte.
  ReplyView(const char* base, std::span<const Node> nodes) noexcept : base_(base), nodes_(nodes) {}

  Type type() const noexcept { return root().type; }
  bool is_error() const noexcept;      // simple_error or blob_error
  bool is_null() const noexcept { return type() == Type::null; }
  bool is_aggregate() const noexcept { return resp::is_aggregate(type()); }

  // String-like payload: simple/blob/verbatim strings (text only), errors, big numbers, doubles.
  std::string_view str() const noexcept;
  // REQUIRES: type() is integer or boolean.
  std::int64_t integer() const noexcept { return root().integer; }
  bool boolean() const noexcept { return root().integer != 0; }
  // A double's value; also parses integers and numeric strings. NaN when it is not a number.
  double number() const noexcept;

  // Aggregates: element count (a map counts keys and values); 0 for everything else.
  std::size_t size() const noexcept;
  // REQUIRES: i < size(). Linear in the number of nodes before element i.
  ReplyView at(std::size_t i) const noexcept;
  // The attribute that annotates this value, or an empty view (type() == null, size() == 0).
  ReplyView attribute() const noexcept;

  class Iterator;
  Iterator begin() const noexcept;
  Iterator end() const noexcept;

  // The whole subtree, for copying into an owned Reply.
  std::span<const Node> nodes() const noexcept { return nodes_; }
  const char* base() const noexcept { return base_; }

 private:
  const Node& root() const noexcept;

  const char* base_ = nullptr;
  std::span<const Node> nodes_;
};

// Forward iterator over the elements of an aggregate, each a ReplyView of its subtree.
class ReplyView::Iterator {
 public:
  using value_type = ReplyView;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  Iterator(const char* base, std::span<const Node> rest) noexcept : base_(base), rest_(rest) {}
  ReplyView operator*() const noexcept;
  Iterator& operator++() noexcept;
  Iterator operator++(int) noexcept {
    Iterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
    return a.rest_.data() == b.rest_.data();
  }

 private:
  const char* base_ = nullptr;
  std::span<const Node> rest_;  // from the current element to the end of the parent's subtree
};

// An owned reply. Cheap to move; copying copies its bytes and nodes (two allocations).
class Reply {
 public:
  Reply() = default;
  // Copies the view's bytes (only the span its nodes cover) and nodes.
  explicit Reply(ReplyView view);
  // A synthetic array whose elements are the given replies: what a multi-command Request yields.
  static Reply array_of(std::span<const Reply> elements);

  ReplyView view() const noexcept;
  operator ReplyView() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)

  Type type() const noexcept { return view().type(); }
  bool is_error() const noexcept { return view().is_error(); }
  bool is_null() const noexcept { return view().is_null(); }
  std::string_view str() const noexcept { return view().str(); }
  std::int64_t integer() const noexcept { return view().integer(); }
  std::size_t size() const noexcept { return view().size(); }
  ReplyView at(std::size_t i) const noexcept { return view().at(i); }
  ReplyView::Iterator begin() const noexcept { return view().begin(); }
  ReplyView::Iterator end() const noexcept { return view().end(); }

 private:
  std::string bytes_;
  std::vector<Node> nodes_;  // empty: a default Reply, which reads as null
};

// Renders a reply for logs and test failures: "[\"a\", 1, nil]", "(error) ERR ...".
std::string to_display(ReplyView reply);
std::ostream& operator<<(std::ostream& os, ReplyView reply);

}  // namespace tiercache::resp
