// Key building.
//
// A key is "<namespace>:<part>:...:<part>[:<hash>]". Two requests that mean the same thing must
// get the same key, and two that do not must not; the rest is for people reading SCAN output.
//
// Normalization (what "the same thing" means), per parameter:
//   - absent, null, "" and [] are one value: absent;
//   - scalars compare as text: 2, 2.0 and "2" are "2", true is "true" (a query string and a JSON
//     body describing one search get one key); non-integral numbers use the shortest text that
//     reads back to the same double (std::to_chars);
//   - declared fields: whitespace trimmed and squeezed, ASCII case folded, arrays sorted (or
//     sorted and deduplicated), a lone value in an order-free field read as a one-element array,
//     a value equal to the declared default dropped from the hash;
//   - nested objects have their keys sorted, recursively.
//
// Hash: XXH3-64 (seed 0) of the remaining parameters (not ignored, not shown in a readable part)
// as compact JSON with sorted keys and every scalar a string, printed as 16 lowercase hex digits.
// It is left out when nothing remains. For a service in another language the hashed text is what
// Python's json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) prints for
// strings without control characters. 64 bits: a collision among a billion distinct requests of
// one readable prefix has odds ~1 in 36 (birthday bound), and costs one wrong cache answer.
//
// Structure cannot be forged. ':' is escaped in every value, so a value never adds a segment;
// the number of segments is fixed by the schema, plus one for the hash. Inside a part, the
// characters of its literals that are not letters or digits (the '-' of "{origin}-{destination}",
// the '~' of "[~{return_date}]") are escaped in its values too, and part() refuses two fields
// parted by letters and digits only: each literal boundary is found by the first separator, so a
// part reads back one way. Escaping is percent-encoding (space as '+'), so it is reversible and
// keys stay readable: "hotels:search:new+york:...". '{' and '}' are always escaped, so no value
// can choose a Redis Cluster hash slot; * ? [ ] and backslash too, so a key's readable parts can
// be matched in SCAN patterns without escaping (user input in patterns: escape_glob).

#include "tiercache/cache/key_builder.hpp"

#include "tiercache/cache/error.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <span>
#include <stdexcept>

namespace tiercache::cache {
namespace {

namespace json = boost::json;

constexpr std::string_view always_escaped = "%+,:{}[]*?\\";

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
// A character allowed as is in a namespace or a literal of a pattern.
bool is_literal_char(char c) {
  return !is_control(c) && c != ' ' && static_cast<unsigned char>(c) < 0x80 &&
         always_escaped.find(c) == std::string_view::npos;
}

std::string escape(std::string_view text, std::string_view extra) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == ' ') {
      out += '+';
    } else if (is_control(c) || always_escaped.find(c) != std::string_view::npos ||
               extra.find(c) != std::string_view::npos) {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string fold(std::string_view in, const FieldRule& rule) {
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    if (rule.trim && is_space(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    if (rule.letter_case == Case::lower && c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (rule.letter_case == Case::upper && c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else {
      out += c;
    }
  }
  if (rule.trim && !out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

template <class N>
std::string number_text(N n) {
  std::array<char, 32> buf{};
  const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), n).ptr;
  return std::string(buf.data(), end);
}

std::string double_text(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return number_text(static_cast<std::int64_t>(d));
  return number_text(d);
}

// The canonical form of `v` under `rule`, or nullopt for absent.
std::optional<json::value> normalize(const json::value& v, const FieldRule& rule);

std::optional<json::value> normalize_scalar(const json::value& v, const FieldRule& rule) {
  std::string text;
  switch (v.kind()) {
    case json::kind::string:
      text = fold(v.get_string(), rule);
      break;
    case json::kind::int64:
      text = number_text(v.get_int64());
      break;
    case json::kind::uint64:
      text = number_text(v.get_uint64());
      break;
    case json::kind::double_:
      text = double_text(v.get_double());
      break;
    case json::kind::bool_:
      text = v.get_bool() ? "true" : "false";
      break;
    default:
      return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  return json::value(json::string(text));
}

std::optional<json::value> normalize_object(const json::object& o) {
  std::vector<std::string_view> names;
  for (const auto& kv : o) names.push_back(kv.key());
  std::sort(names.begin(), names.end());
  json::object out;
  for (const std::string_view name : names) {
    if (auto v = normalize(o.at(name), FieldRule{})) out.emplace(name, std::move(*v));
  }
  if (out.empty()) return std::nullopt;
  return json::value(std::move(out));
}

std::optional<json::value> normalize(const json::value& v, const FieldRule& rule) {
  if (v.is_object()) return normalize_object(v.get_object());
  if (!v.is_array()) {
    auto scalar = normalize_scalar(v, rule);
    if (!scalar || rule.order == Order::as_is) return scalar;
    return json::value(json::array{std::move(*scalar)});
  }
  std::vector<std::pair<std::string, json::value>> items;  // (serialized, value) for sorting
  for (const json::value& item : v.get_array()) {
    if (auto n = normalize(item, FieldRule{.letter_case = rule.letter_case, .trim = rule.trim})) {
      items.emplace_back(json::serialize(*n), std::move(*n));
    }
  }
  if (items.empty()) return std::nullopt;
  const auto by_text = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (rule.order != Order::as_is) std::stable_sort(items.begin(), items.end(), by_text);
  if (rule.order == Order::set) {
    const auto same = [](const auto& a, const auto& b) { return a.first == b.first; };
    items.erase(std::unique(items.begin(), items.end(), same), items.end());
  }
  json::array out;
  for (auto& item : items) out.push_back(std::move(item.second));
  return json::value(std::move(out));
}

// A field's value shown in a readable part: a string, or an array of strings joined by ','.
std::optional<std::string> render(const json::value& v, std::string_view separators) {
  if (v.is_string()) return escape(v.get_string(), separators);
  if (!v.is_array()) return std::nullopt;
  std::string out;
  for (const json::value& item : v.get_array()) {
    if (!item.is_string()) return std::nullopt;
    if (!out.empty()) out += ',';
    out += escape(item.get_string(), separators);
  }
  return out;
}

// ':' and the XXH3-64 of `text` in 16 lowercase hex digits, appended to `key`.
void append_hash(std::string_view text, std::string& key) {
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t hash = XXH3_64bits(text.data(), text.size());
  std::array<char, 16> digits{};
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, hash >>= 4) *it = hex[hash & 0xf];
  key += ':';
  key.append(digits.data(), digits.size());
}

// The query-string path of build(): values are strings, or arrays of strings for a repeated
// name, so the normalized value is text, kept without a Boost.JSON document. Each step mirrors
// normalize() and render() above for those two kinds; key_builder_pairs_test.cpp checks that both
// paths give the same keys.
template <class T, std::size_t N>
using SmallVector = boost::container::small_vector<T, N>;

// A normalized string (`items` empty), or an array of them.
struct TextValue {
  bool is_array = false;
  std::string scalar;
  std::vector<std::string> items;

  bool operator==(const TextValue&) const = default;
};

struct NamedText {
  std::string_view name;
  TextValue value;
};

// `text` as a JSON string, escaped as Boost.JSON's serializer does: \" \\ \b \f \n \r \t, other
// control bytes as \u00xx (lowercase), everything else (DEL, UTF-8) as is.
void append_json_string(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  // Characters that need no escape are appended a run at a time (on a proxy hit, appending
  // them one by one was ~1% of the request).
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      out += '\\';
      out += c == '\b' ? 'b' : c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
    } else {
      out += "\\u00";
      out += hex[b >> 4];
      out += hex[b & 0xf];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

void append_json(const TextValue& v, std::string& out) {
  if (!v.is_array) return append_json_string(v.scalar, out);
  out += '[';
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(v.items[i], out);
  }
  out += ']';
}

// normalize() of a string (`array` false: given holds one) or an array of strings.
std::optional<TextValue> normalize_texts(std::span<const std::string_view> given, bool array,
                                         const FieldRule& rule) {
  TextValue out;
  if (!array) {
    out.scalar = fold(given.front(), rule);
    if (out.scalar.empty()) return std::nullopt;
    if (rule.order == Order::as_is) return out;
    out.is_array = true;
    out.items.push_back(std::move(out.scalar));
    out.scalar.clear();
    return out;
  }
  out.is_array = true;
  for (const std::string_view item : given) {
    if (auto folded = fold(item, rule); !folded.empty()) out.items.push_back(std::move(folded));
  }
  if (out.items.empty()) return std::nullopt;
  if (rule.order == Order::as_is) return out;
  // Sorted by their JSON text, as normalize() sorts serialized items (escapes change the order).
  std::vector<std::pair<std::string, std::string>> by_text;
  by_text.reserve(out.items.size());
  for (auto& item : out.items) {
    std::string json_text;
    append_json_string(item, json_text);
    by_text.emplace_back(std::move(json_text), std::move(item));
  }
  const auto less = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(by_text.begin(), by_text.end(), less);
  if (rule.order == Order::set) {
    const auto same = [](const auto& a, const auto& b) { return a.first == b.first; };
    by_text.erase(std::unique(by_text.begin(), by_text.end(), same), by_text.end());
  }
  out.items.clear();
  for (auto& [json_text, item] : by_text) out.items.push_back(std::move(item));
  return out;
}

// render() of a TextValue, appended to `out`.
void render_text(const TextValue& v, std::string_view separators, std::string& out) {
  if (!v.is_array) {
    out += escape(v.scalar, separators);
    return;
  }
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    if (i > 0) out += ',';
    out += escape(v.items[i], separators);
  }
}
}  // namespace

KeySchema::KeySchema(std::string ns, KeyOptions options) : ns_(std::move(ns)), options_(options) {
  bool segment_empty = true;
  for (const char c : ns_) {
    if (c == ':') {
      if (segment_empty) break;
      segment_empty = true;
    } else if (is_literal_char(c) && c != ':') {
      segment_empty = false;
    } else {
      throw std::invalid_argument("KeySchema: namespace '" + ns_ + "' has a character not allowed");
    }
  }
  if (segment_empty)
    throw std::invalid_argument("KeySchema: namespace '" + ns_ + "' has an empty segment");
}

KeySchema& KeySchema::part(std::string_view pattern) {
  const auto fail = [&](const char* why) {
    throw std::invalid_argument("KeySchema::part(\"" + std::string(pattern) + "\"): " + why);
  };
  Part part;
  part.groups.emplace_back();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '[' || c == ']') {
      if ((c == '[') == part.groups.back().optional) fail("groups do not nest and must close");
      part.groups.push_back(Group{.optional = c == '[', .tokens = {}});
    } else if (c == '{') {
      const std::size_t close = pattern.find('}', i);
      if (close == std::string_view::npos || close == i + 1) fail("a field needs a name in { }");
      const std::string_view name = pattern.substr(i + 1, close - i - 1);
      if (!std::all_of(name.begin(), name.end(), [](char n) { return is_alnum(n) || n == '_'; })) {
        fail("a field name is letters, digits and '_'");
      }
      part.groups.back().tokens.push_back(Token{.is_field = true, .text = std::string(name)});
      i = close;
    } else if (is_literal_char(c) || c == '}') {
      if (c == '}') fail("unmatched '}'");
      auto& tokens = part.groups.back().tokens;
      if (tokens.empty() || tokens.back().is_field) tokens.push_back(Token{});
      tokens.back().text += c;
      if (!is_alnum(c) && part.separators.find(c) == std::string::npos) part.separators += c;
    } else {
      fail("literal text is printable ASCII without spaces or % + , : * ? \\");
    }
  }
  if (part.groups.back().optional) fail("'[' without ']'");
  // Every way the optional groups can fall must leave fields parted by a separator.
  std::size_t optional_groups = 0;
  for (const Group& g : part.groups) optional_groups += g.optional ? 1 : 0;
  if (optional_groups > 4) fail("at most 4 optional groups");
  for (unsigned present = 0; present < (1U << optional_groups); ++present) {
    unsigned bit = 0;
    bool after_field = false;
    for (const Group& g : part.groups) {
      if (g.optional && (present & (1U << bit++)) == 0) continue;
      for (const Token& t : g.tokens) {
        if (t.is_field && after_field) fail("two fields need a non-alphanumeric literal between");
        if (t.is_field) after_field = true;
        if (!t.is_field && !std::all_of(t.text.begin(), t.text.end(), is_alnum))
          after_field = false;
      }
    }
  }
  parts_.push_back(std::move(part));
  return *this;
}

KeySchema& KeySchema::field(std::string name, FieldRule rule) {
  rules_.insert_or_assign(std::move(name), std::move(rule));
  return *this;
}

KeySchema& KeySchema::ignore(std::string name) { return field(std::move(name), {.ignored = true}); }

template <class Shown, class Render>
Result<void> KeySchema::append_parts(std::string& key, Shown& shown, Render&& render) const {
  std::string text;
  for (const Part& part : parts_) {
    key += ':';
    for (const Group& group : part.groups) {
      text.clear();
      bool complete = true;
      for (const Token& token : group.tokens) {
        if (!token.is_field) {
          text += token.text;
          continue;
        }
        shown.push_back(token.text);
        const Result<bool> shown_value = render(part, token.text, text);
        if (!shown_value) return shown_value.error();
        if (!*shown_value) complete = false;
      }
      if (!complete && !group.optional) return Errc::invalid_argument;
      if (complete) key += text;
    }
  }
  return {};
}

Result<std::string> KeySchema::build(Pairs params) const {
  static const FieldRule as_given{};
  const auto rule_of = [&](std::string_view name) -> const FieldRule& {
    const auto it = rules_.find(name);
    return it == rules_.end() ? as_given : it->second;
  };
  // The pairs in name order, repeated names keeping their given order (a stable sort), so each
  // run of one name is that parameter's array, as build(object) would see it.
  SmallVector<std::uint32_t, 16> order;
  order.reserve(params.size());
  for (std::uint32_t i = 0; i < params.size(); ++i) order.push_back(i);
  // Stable. Insertion sort for the few parameters most requests have: no buffer to allocate.
  const auto by_name = [&](std::uint32_t a, std::uint32_t b) {
    return params[a].first < params[b].first;
  };
  if (order.size() > 16) {
    std::stable_sort(order.begin(), order.end(), by_name);
  } else {
    for (std::size_t i = 1; i < order.size(); ++i) {
      const std::uint32_t moving = order[i];
      std::size_t j = i;
      for (; j > 0 && by_name(moving, order[j - 1]); --j) order[j] = order[j - 1];
      order[j] = moving;
    }
  }
  // Normalized values of every parameter not ignored, by name (sorted, as `order` is).
  SmallVector<NamedText, 8> values;
  for (std::size_t i = 0; i < order.size();) {
    const std::string_view name = params[order[i]].first;
    std::size_t end = i + 1;
    while (end < order.size() && params[order[end]].first == name) ++end;
    const FieldRule& rule = rule_of(name);
    if (!rule.ignored) {
      SmallVector<std::string_view, 4> given;
      for (std::size_t j = i; j < end; ++j) given.push_back(params[order[j]].second);
      if (auto v = normalize_texts(given, end - i > 1, rule)) {
        values.push_back(NamedText{name, std::move(*v)});
      }
    }
    i = end;
  }
  const auto find_value = [&](std::string_view name) -> const TextValue* {
    const auto it =
        std::lower_bound(values.begin(), values.end(), name,
                         [](const NamedText& v, std::string_view n) { return v.name < n; });
    return it != values.end() && it->name == name ? &it->value : nullptr;
  };
  const auto default_of = [&](std::string_view name) -> std::optional<TextValue> {
    const FieldRule& rule = rule_of(name);
    if (!rule.default_value) return std::nullopt;
    const std::string_view given[] = {*rule.default_value};
    return normalize_texts(given, false, rule);
  };

  std::string key = ns_;
  SmallVector<std::string_view, 8> shown;
  const auto ok = append_parts(
      key, shown, [&](const Part& part, const std::string& name, std::string& out) -> Result<bool> {
        std::optional<TextValue> fallback;
        const TextValue* value = find_value(name);
        if (value == nullptr && (fallback = default_of(name))) value = &*fallback;
        if (value == nullptr) return false;
        render_text(*value, part.separators, out);
        return true;
      });
  if (!ok) return ok.error();

  // The hashed rest, as compact JSON (the same bytes json::serialize gives build(object)).
  std::string text;
  for (const NamedText& v : values) {
    if (std::find(shown.begin(), shown.end(), v.name) != shown.end()) continue;
    if (const auto fallback = default_of(v.name); fallback && *fallback == v.value) continue;
    text += text.empty() ? '{' : ',';
    append_json_string(v.name, text);
    text += ':';
    append_json(v.value, text);
  }
  if (!text.empty()) {
    text += '}';
    append_hash(text, key);
  }
  if (key.size() > options_.max_key_size) return Errc::invalid_key;
  return key;
}

Result<std::string> KeySchema::build(const json::object& params) const {
  static const FieldRule as_given{};
  const auto rule_of = [&](std::string_view name) -> const FieldRule& {
    const auto it = rules_.find(name);
    return it == rules_.end() ? as_given : it->second;
  };
  // Normalized values of every parameter not ignored, by name (sorted).
  std::map<std::string, json::value, std::less<>> values;
  for (const auto& kv : params) {
    const FieldRule& rule = rule_of(kv.key());
    if (rule.ignored) continue;
    if (auto v = normalize(kv.value(), rule)) values.emplace(kv.key(), std::move(*v));
  }
  const auto value_of = [&](const std::string& name) -> std::optional<json::value> {
    if (const auto it = values.find(name); it != values.end()) return it->second;
    const FieldRule& rule = rule_of(name);
    if (!rule.default_value) return std::nullopt;
    return normalize(json::string(*rule.default_value), rule);
  };

  std::string key = ns_;
  std::vector<std::string_view> shown;
  const auto ok = append_parts(
      key, shown, [&](const Part& part, const std::string& name, std::string& out) -> Result<bool> {
        const auto value = value_of(name);
        if (!value) return false;
        const auto rendered = render(*value, part.separators);
        if (!rendered) return Errc::invalid_argument;  // an object, or nested arrays
        out += *rendered;
        return true;
      });
  if (!ok) return ok.error();

  json::object rest;
  for (const auto& [name, value] : values) {
    if (std::find(shown.begin(), shown.end(), name) != shown.end()) continue;
    const FieldRule& rule = rule_of(name);
    if (rule.default_value && value == normalize(json::string(*rule.default_value), rule)) continue;
    rest.emplace(name, value);
  }
  if (!rest.empty()) append_hash(json::serialize(rest), key);
  if (key.size() > options_.max_key_size) return Errc::invalid_key;
  return key;
}

std::string escape_key_part(std::string_view text) { return escape(text, {}); }

Result<void> validate_key(std::string_view key, std::size_t max_key_size) {
  if (key.empty() || key.size() > max_key_size || std::any_of(key.begin(), key.end(), is_control)) {
    return Errc::invalid_key;
  }
  return {};
}

std::string escape_glob(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace tiercache::cache
