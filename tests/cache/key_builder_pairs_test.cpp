// KeySchema::build over name/value pairs (a query string) normalizes text directly, without the
// Boost.JSON document build(object) uses. Its keys are pinned to build(object)'s byte for byte:
// a changed key would orphan every stored entry (issue #7, the proxy's hit path).

#include "tiercache/cache/error.hpp"
#include "tiercache/cache/key_builder.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::cache {
namespace {

namespace json = boost::json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// The pairs as the JSON object build(Pairs) used to make of them: a repeated name is an array.
json::object as_object(const Pairs& pairs) {
  json::object object;
  for (const auto& [name, value] : pairs) {
    const auto it = object.find(name);
    if (it == object.end()) {
      object.emplace(name, json::string(value));
    } else if (it->value().is_array()) {
      it->value().get_array().emplace_back(json::string(value));
    } else {
      it->value() = json::array{it->value(), json::string(value)};
    }
  }
  return object;
}

Result<std::string> from_pairs(const KeySchema& schema, const Pairs& pairs) {
  std::vector<std::pair<std::string_view, std::string_view>> views(pairs.begin(), pairs.end());
  return schema.build(KeySchema::Pairs(views));
}

std::string describe(const Pairs& pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) out += "[" + name + "]=[" + value + "] ";
  return out;
}

void expect_same_keys(const KeySchema& schema, const Pairs& pairs) {
  const auto expected = schema.build(as_object(pairs));
  const auto got = from_pairs(schema, pairs);
  ASSERT_EQ(got.has_value(), expected.has_value()) << describe(pairs);
  if (expected) {
    ASSERT_EQ(*got, *expected) << describe(pairs);
  } else {
    ASSERT_EQ(got.error(), expected.error()) << describe(pairs);
  }
}

std::vector<KeySchema> schemas() {
  std::vector<KeySchema> out;
  out.push_back(KeySchema("plain"));
  out.push_back(KeySchema("GET")
                    .part("{__path}")
                    .field("__path", {.trim = false, .default_value = "/"})
                    .field("city", {.letter_case = Case::lower}));
  out.push_back(
      KeySchema("rules", {.max_key_size = 96})
          .field("a", {.letter_case = Case::lower, .order = Order::sorted})
          .field("b", {.letter_case = Case::upper, .order = Order::set, .default_value = " x "})
          .field("c", {.ignored = true})
          .field("d", {.trim = false, .default_value = "  "})
          .field("e", {.order = Order::set, .default_value = "y"})
          .field("f", {.default_value = "z"}));
  out.push_back(KeySchema("parts:x")
                    .part("{a}-{b}")
                    .part("{d}[~{e}]")
                    .part("{f}n")
                    .field("a", {.letter_case = Case::upper})
                    .field("b", {.order = Order::set, .default_value = "q"})
                    .field("d", {.default_value = "1"})
                    .field("e", {.order = Order::sorted})
                    .field("f", {.default_value = "0"})
                    .ignore("c"));
  return out;
}

TEST(KeyBuilderPairsTest, GivesTheKeysOfTheJsonPathOnRandomQueries) {
  // Bytes that matter to folding, escaping, JSON escaping and sorting, UTF-8 and DEL included.
  static constexpr std::string_view kBytes =
      "aAbBzZ09 \t\n\r\f\v\"\\:-~,%+{}[]*?/\x01\x1f\x7f\xc3\xa9";
  static const std::vector<std::string> kNames = {"a", "b", "c", "d",      "e",
                                                  "f", "g", "A", "__path", "city"};
  std::mt19937 rng(7);
  const auto below = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const auto text = [&] {
    std::string s;
    const std::size_t size = below(4) == 0 ? 0 : below(8);
    for (std::size_t i = 0; i < size; ++i) s += kBytes[below(kBytes.size())];
    return s;
  };
  const auto all = schemas();
  for (int round = 0; round < 4000; ++round) {
    Pairs pairs;
    const std::size_t count =
        below(8) == 0 ? 17 + below(8) : below(7);  // past 16: std::stable_sort
    for (std::size_t i = 0; i < count; ++i) {
      // Mostly known names (so rules, defaults and repeats meet), sometimes random ones.
      pairs.emplace_back(below(5) == 0 ? text() : kNames[below(kNames.size())], text());
    }
    for (const KeySchema& schema : all) {
      expect_same_keys(schema, pairs);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(KeyBuilderPairsTest, GivesTheKeysOfTheJsonPathOnChosenQueries) {
  const std::vector<Pairs> cases = {
      {},
      {{"city", "Paris"}},
      {{"__path", "/today"}, {"city", " Paris  France "}},
      {{"a", "b"}, {"a", "A"}, {"a", "\"a"}, {"a", "a#"}},  // sorted by JSON text, not raw
      {{"b", "x"}, {"b", "X"}, {"b", " x"}},                // a set: one value left, the default
      {{"e", "y"}, {"e", "y"}},                             // a set of the default
      {{"e", ""}, {"e", " "}},                              // all absent
      {{"d", "  "}, {"f", "z"}},                            // defaults left out of the hash
      {{"d", "\t"}, {"c", "ignored"}, {"g", "\x01\x7f"}},
      {{"a", "q"}, {"b", "r"}, {"d", "2"}, {"e", "s"}, {"e", "t"}, {"f", "3"}},
      {{"a", "q"}, {"d", "2"}},                // b from its default
      {{"a", "x-y"}, {"b", "z"}, {"d", "~"}},  // separators escaped
      {{"b", "z"}, {"d", "2"}},                // a readable field absent
      {{"zz", std::string(200, 'v')}},         // past max_key_size in "rules"
  };
  const auto all = schemas();
  for (const Pairs& pairs : cases) {
    for (const KeySchema& schema : all) expect_same_keys(schema, pairs);
  }
}

// The proxy's keys (route.cpp's schema), pinned literally through both paths, so a change to both
// shows too.
TEST(KeyBuilderPairsTest, KeepsTheProxysKeys) {
  const auto schema = schemas()[1];
  const std::vector<std::pair<Pairs, std::string>> pinned = {
      {{{"__path", ""}, {"city", "Paris"}}, "GET:/:ebcfe85f632f74a3"},
      {{{"__path", "/today"}, {"city", "PARIS"}, {"units", "metric"}},
       "GET:/today:b3c3a3edb1c9ce97"},
      {{{"__path", "/a b"}, {"z", "1"}, {"y", "2"}, {"z", "0"}}, "GET:/a+b:12cabeff4a124462"},
      {{{"__path", "/x"}}, "GET:/x"},
  };
  for (const auto& [pairs, key] : pinned) {
    EXPECT_EQ(*from_pairs(schema, pairs), key) << describe(pairs);
    EXPECT_EQ(*schema.build(as_object(pairs)), key) << describe(pairs);
  }
}

}  // namespace
}  // namespace tiercache::cache
