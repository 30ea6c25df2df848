#pragma once
// KeySchema: how one kind of request becomes a cache key, "<namespace>:<readable parts>[:<hash>]":
// readable parts show the fields people search and invalidate by; an XXH3-64 hash (16 hex digits)
// stands for the other parameters, normalized so that equal requests get equal keys.
// Use: auto k = KeySchema("airport").part("{code}").field("code", {.letter_case = Case::upper})
//                   .build(params);  // "airport:JFK"; examples/key_builder.cpp: seed 004's keys
// Thread-safety: configure once; build() is const and safe from any thread.

#include "tiercache/base/result.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::cache {

// Case folding of a field's strings (ASCII letters only, so the result never depends on a locale).
enum class Case : std::uint8_t { as_is, lower, upper };
// How a field's array is ordered: as given, sorted (order-free), or sorted without duplicates. A
// single value in a sorted or set field counts as a one-element array.
enum class Order : std::uint8_t { as_is, sorted, set };

// How one parameter is normalized. Scalars are compared as text: 2, 2.0 and "2" are one value,
// so JSON bodies and query strings give the same key. Null, "" and [] count as absent.
struct FieldRule {
  Case letter_case = Case::as_is;
  Order order = Order::as_is;
  // Strip leading and trailing whitespace and squeeze inner runs to one space. Default: on.
  bool trim = true;
  // The value an absent parameter stands for. Shown in readable parts when absent; left out of
  // the hash when given, so that adding a defaulted field to a schema keeps old keys valid.
  std::optional<std::string> default_value{};
  // Left out of the key entirely (request ids, API keys, tracing fields).
  bool ignored = false;
};

struct KeyOptions {
  // Longer keys are refused with Errc::invalid_key. Default: 1024 bytes. Redis allows 512 MiB,
  // but every byte of a key is kept in memory and sent on every command.
  std::size_t max_key_size = 1024;
};

class KeySchema {
 public:
  using Pairs = std::span<const std::pair<std::string_view, std::string_view>>;

  // REQUIRES: `ns` is one or more ':'-separated segments of printable ASCII without spaces or
  // any of % + , { } [ ] * ? backslash. Throws std::invalid_argument otherwise.
  explicit KeySchema(std::string ns, KeyOptions options = {});

  // Appends a readable part: literal text, {field} for a parameter's value, and [ ... ] for a
  // group left out when one of its fields is absent, e.g. "{departure_date}[~{return_date}]".
  // Fields shown here are not hashed. Two fields must be parted by a literal with a character
  // that is neither letter nor digit; the values have those characters percent-escaped, so no
  // value can pass for another's structure. Throws std::invalid_argument on a bad pattern.
  KeySchema& part(std::string_view pattern);
  // Declares how parameter `name` is normalized. Undeclared parameters are hashed as given.
  KeySchema& field(std::string name, FieldRule rule);
  KeySchema& ignore(std::string name);

  // The key for these parameters. Fails with invalid_argument (a field of a readable part is
  // absent with no default, or is an object) or invalid_key (longer than max_key_size).
  [[nodiscard]] Result<std::string> build(const boost::json::object& params) const;
  // The same from name/value pairs (a query string); a repeated name makes an array.
  [[nodiscard]] Result<std::string> build(Pairs params) const;
  [[nodiscard]] Result<std::string> build(
      std::initializer_list<std::pair<std::string_view, std::string_view>> params) const {
    return build(Pairs(params.begin(), params.size()));
  }

 private:
  struct Token {
    bool is_field = false;
    std::string text;  // the literal, or the field's name
  };
  struct Group {
    bool optional = false;
    std::vector<Token> tokens;
  };
  struct Part {
    std::vector<Group> groups;
    std::string separators;  // non-alphanumeric literal characters, escaped in values
  };

  // Appends the readable parts to `key`: each part after a ':', a group's text when each of its
  // fields has a value (an optional group is left out otherwise). render(part, field, text)
  // appends the field's value and returns true, false when it has none, or an error. Records
  // the fields shown in `shown`. Both build()s use it.
  template <class Shown, class Render>
  Result<void> append_parts(std::string& key, Shown& shown, Render&& render) const;

  std::string ns_;
  KeyOptions options_;
  std::vector<Part> parts_;
  std::map<std::string, FieldRule, std::less<>> rules_;
};

// `text` made safe as one key segment: control characters, space (as '+') and
// % + , : { } [ ] * ? backslash are percent-escaped; other bytes (UTF-8 included) are kept.
std::string escape_key_part(std::string_view text);

// Whether `key` (say, from a REST path) is usable as is: not empty, at most max_key_size bytes, no
// control characters. Fails with invalid_key.
[[nodiscard]] Result<void> validate_key(std::string_view key, std::size_t max_key_size = 1024);

// `text` with the glob characters of Redis's SCAN MATCH (* ? [ ] backslash) escaped by a
// backslash, so user input matches only itself inside a pattern: "flights:" + escape_glob(x) + "*".
std::string escape_glob(std::string_view text);

}  // namespace tiercache::cache
