#include "tiercache/cache/key_builder.hpp"

#include "tiercache/cache/error.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>
#include <string>

namespace tiercache::cache {
namespace {

namespace json = boost::json;

// Seed 004 section 3.1: flights:search:JFK-LAX:2025-06-01~2025-06-08:2a-0c-0i:<hash>.
KeySchema flight_search() {
  return KeySchema("flights:search")
      .part("{origin}-{destination}")
      .part("{departure_date}[~{return_date}]")
      .part("{adults}a-{children}c-{infants}i")
      .field("origin", {.letter_case = Case::upper})
      .field("destination", {.letter_case = Case::upper})
      .field("adults", {.default_value = "1"})
      .field("children", {.default_value = "0"})
      .field("infants", {.default_value = "0"})
      .field("cabin_class", {.letter_case = Case::lower, .default_value = "economy"})
      .field("airline_codes", {.letter_case = Case::upper, .order = Order::set})
      .ignore("request_id");
}

// Seed 004 section 3.1: hotels:search:<location>:<check_in>~<check_out>:<guests>g-<rooms>r:<hash>.
KeySchema hotel_search() {
  return KeySchema("hotels:search")
      .part("{location}")
      .part("{check_in_date}~{check_out_date}")
      .part("{guests}g-{rooms}r")
      .field("location", {.letter_case = Case::lower})
      .field("rooms", {.default_value = "1"})
      .field("amenities", {.letter_case = Case::lower, .order = Order::set})
      .ignore("adults")
      .ignore("children");
}

std::string key(const KeySchema& schema, std::string_view params_json) {
  auto k = schema.build(json::parse(params_json).as_object());
  EXPECT_TRUE(k) << params_json;
  return k ? *k : "";
}

TEST(KeyBuilderTest, BuildsSeed004FlightSearchKey) {
  const std::string k = key(flight_search(), R"({"origin": "jfk", "destination": "LAX",
      "departure_date": "2025-06-01", "return_date": "2025-06-08", "adults": 2,
      "cabin_class": "Business", "max_connections": 1, "airline_codes": ["dl", "AA"]})");
  EXPECT_TRUE(std::regex_match(
      k, std::regex("flights:search:JFK-LAX:2025-06-01~2025-06-08:2a-0c-0i:[0-9a-f]{16}")))
      << k;
  EXPECT_EQ(key(flight_search(), R"({"origin": "JFK", "destination": "LAX",
      "departure_date": "2025-06-01", "adults": 1})"),
            "flights:search:JFK-LAX:2025-06-01:1a-0c-0i");
}

TEST(KeyBuilderTest, BuildsSeed004HotelSearchKey) {
  json::object params = json::parse(R"({"location": "New  York ", "check_in_date": "2025-07-01",
      "check_out_date": "2025-07-05", "adults": 2, "children": 1, "amenities": ["Pool", "wifi"],
      "min_rating": 4})")
                            .as_object();
  params["guests"] = params["adults"].as_int64() + params["children"].as_int64();
  const auto k = hotel_search().build(params);
  ASSERT_TRUE(k);
  EXPECT_TRUE(std::regex_match(
      *k, std::regex("hotels:search:new\\+york:2025-07-01~2025-07-05:3g-1r:[0-9a-f]{16}")))
      << *k;
}

TEST(KeyBuilderTest, IgnoresParameterOrderCaseAndArrayOrder) {
  const auto schema = flight_search();
  const std::string a = key(schema, R"({"origin": "JFK", "destination": "LAX",
      "departure_date": "2025-06-01", "cabin_class": "business", "airline_codes": ["AA", "DL"],
      "max_connections": 1})");
  for (const char* same : {
           R"({"max_connections": 1, "airline_codes": ["DL", "AA"], "cabin_class": "BUSINESS",
               "departure_date": "2025-06-01", "destination": "lax", "origin": " jfk"})",
           R"({"origin": "JFK", "destination": "LAX", "departure_date": "2025-06-01",
               "cabin_class": "business", "airline_codes": ["aa", "dl", "AA"],
               "max_connections": "1", "request_id": "r-42", "adults": 1.0, "infants": null})",
       }) {
    EXPECT_EQ(key(schema, same), a) << same;
  }
}

TEST(KeyBuilderTest, TellsDifferentRequestsApart) {
  const auto schema = flight_search();
  const std::string base =
      R"("origin": "JFK", "destination": "LAX", "departure_date": "2025-06-01")";
  const std::string a = key(schema, "{" + base + R"(, "airline_codes": ["AA", "DL"]})");
  for (const std::string other : {
           R"(, "airline_codes": ["AA"]})",
           R"(, "airline_codes": ["AA", "DL", "UA"]})",
           R"(, "airline_codes": ["AA", "DL"], "max_connections": 0})",
           R"(, "airline_codes": ["AA", "DL"], "cabin_class": "first"})",
           R"(, "airline_codes": ["AA", "DL"], "adults": 2})",
           R"(, "airline_codes": ["AA", "DL"], "return_date": "2025-06-08"})",
       }) {
    EXPECT_NE(key(schema, "{" + base + other), a) << other;
  }
  // An undeclared field keeps its case and its array order.
  const auto plain = KeySchema("x").part("{id}");
  EXPECT_NE(key(plain, R"({"id": "1", "q": "Rome"})"), key(plain, R"({"id": "1", "q": "rome"})"));
  EXPECT_NE(key(plain, R"({"id": "1", "q": [1, 2]})"), key(plain, R"({"id": "1", "q": [2, 1]})"));
}

TEST(KeyBuilderTest, TreatsDefaultsAsAbsent) {
  const auto schema = flight_search();
  const std::string base =
      R"("origin": "JFK", "destination": "LAX", "departure_date": "2025-06-01")";
  EXPECT_EQ(key(schema, "{" + base + R"(, "cabin_class": "Economy"})"),
            key(schema, "{" + base + "}"));
  EXPECT_EQ(key(schema, "{" + base + R"(, "airline_codes": [], "max_connections": ""})"),
            key(schema, "{" + base + "}"));
}

TEST(KeyBuilderTest, GivesQueryStringsAndJsonBodiesOneKey) {
  const auto schema = flight_search();
  const auto from_pairs = schema.build({{"origin", "jfk"},
                                        {"destination", "lax"},
                                        {"departure_date", "2025-06-01"},
                                        {"adults", "2"},
                                        {"airline_codes", "DL"},
                                        {"airline_codes", "AA"},
                                        {"max_connections", "1"}});
  ASSERT_TRUE(from_pairs);
  EXPECT_EQ(*from_pairs, key(schema, R"({"origin": "JFK", "destination": "LAX",
      "departure_date": "2025-06-01", "adults": 2, "airline_codes": ["AA", "DL"],
      "max_connections": 1})"));
  // One value in an order-free field is a one-element array.
  EXPECT_EQ(*schema.build({{"origin", "JFK"},
                           {"destination", "LAX"},
                           {"departure_date", "2025-06-01"},
                           {"airline_codes", "AA"}}),
            key(schema, R"({"origin": "JFK", "destination": "LAX", "departure_date": "2025-06-01",
                "airline_codes": ["AA"]})"));
}

TEST(KeyBuilderTest, EscapesValuesSoTheyCannotForgeStructure) {
  const auto schema = flight_search();
  // A ':' would add a segment, a '~' would fake a return date, a '-' a destination.
  EXPECT_EQ(*schema.build({{"origin", "JFK:X"},
                           {"destination", "LAX"},
                           {"departure_date", "2025-06-01~2025-06-08"}}),
            "flights:search:JFK%3AX-LAX:2025-06-01%7E2025-06-08:1a-0c-0i");
  EXPECT_NE(*schema.build({{"origin", "A-B"}, {"destination", "C"}, {"departure_date", "d"}}),
            *schema.build({{"origin", "A"}, {"destination", "B-C"}, {"departure_date", "d"}}));
  EXPECT_EQ(escape_key_part("a b+c%d\x01{e}*?[f]\\,é"),
            "a+b%2Bc%25d%01%7Be%7D%2A%3F%5Bf%5D%5C%2Cé");
}

TEST(KeyBuilderTest, RefusesMissingReadableFieldsAndObjects) {
  const auto schema = flight_search();
  const auto missing = schema.build({{"origin", "JFK"}, {"departure_date", "2025-06-01"}});
  EXPECT_EQ(missing.error(), Errc::invalid_argument);
  const auto object = schema.build(json::parse(R"({"origin": {"a": 1}, "destination": "LAX",
      "departure_date": "2025-06-01"})")
                                       .as_object());
  EXPECT_EQ(object.error(), Errc::invalid_argument);
}

TEST(KeyBuilderTest, RefusesKeysOverTheMaximumLength) {
  const auto schema = KeySchema("x", {.max_key_size = 20}).part("{id}");
  EXPECT_EQ(*schema.build({{"id", "0123456789"}}), "x:0123456789");
  EXPECT_EQ(schema.build({{"id", std::string(19, 'a')}}).error(), Errc::invalid_key);
}

TEST(KeyBuilderTest, HashesNestedObjectsWithSortedNames) {
  const auto schema = KeySchema("x").part("{id}");
  EXPECT_EQ(key(schema, R"({"id": 1, "f": {"b": 1, "a": [2, 1]}})"),
            key(schema, R"({"id": 1, "f": {"a": [2, 1], "b": "1"}})"));
  EXPECT_EQ(key(schema, R"({"id": 1, "f": 0.5})"), key(schema, R"({"id": 1, "f": "0.5"})"));
}

TEST(KeyBuilderTest, RefusesBadPatternsAndNamespaces) {
  for (const char* bad : {"{a}{b}", "{a}x{b}", "{a}[-{b}]{c}", "{", "{}", "[{a}", "{a}]", "a:b",
                          "a b", "{a-b}", "[[{a}]]"}) {
    EXPECT_THROW(KeySchema("x").part(bad), std::invalid_argument) << bad;
  }
  for (const char* bad : {"", ":", "a:", ":a", "a::b", "a b", "a*", "ns{1}"}) {
    EXPECT_THROW(KeySchema{bad}, std::invalid_argument) << bad;
  }
  EXPECT_NO_THROW(KeySchema("tripsage:v2").part("{a}.{b}[~{c}]").part("all"));
}

TEST(KeyBuilderTest, ValidatesRawKeys) {
  EXPECT_TRUE(validate_key("flights:search:JFK"));
  EXPECT_EQ(validate_key("").error(), Errc::invalid_key);
  EXPECT_EQ(validate_key("a\nb").error(), Errc::invalid_key);
  EXPECT_EQ(validate_key(std::string(1025, 'k')).error(), Errc::invalid_key);
  EXPECT_TRUE(validate_key(std::string(1024, 'k')));
}

TEST(KeyBuilderTest, EscapesGlobCharacters) {
  EXPECT_EQ(escape_glob("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
  EXPECT_EQ(escape_glob("plain:text-1"), "plain:text-1");
}

}  // namespace
}  // namespace tiercache::cache
