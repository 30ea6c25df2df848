// Cache keys from request parameters: seed 004's flight and hotel search keys, each a schema of a
// few lines. Equal searches (any parameter order, any case, airlines in any order, defaults left
// out, a request id added) get one key; the hash stands for what the readable parts do not show.
// Run: ./key_builder
#include <boost/json/parse.hpp>

#include <cstdio>
#include <tiercache/cache/key_builder.hpp>

using namespace tiercache::cache;

int main() {
  // flights:search:<origin>-<destination>:<departure>[~<return>]:<a>a-<c>c-<i>i[:<hash>]
  const auto flights =
      KeySchema("flights:search")
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

  const auto a = flights.build(boost::json::parse(R"({
      "origin": "JFK", "destination": "LAX", "departure_date": "2025-06-01",
      "return_date": "2025-06-08", "adults": 2, "cabin_class": "business",
      "max_connections": 1, "airline_codes": ["AA", "DL"]})")
                                   .as_object());
  // The same search as a query string, in another order and case, with a request id.
  const auto b = flights.build({{"airline_codes", "dl"},
                                {"airline_codes", "aa"},
                                {"max_connections", "1"},
                                {"cabin_class", "Business"},
                                {"origin", "jfk"},
                                {"destination", "lax"},
                                {"adults", "2"},
                                {"departure_date", "2025-06-01"},
                                {"return_date", "2025-06-08"},
                                {"request_id", "8f2c"}});
  if (!a || !b) return 1;
  std::printf("flight: %s\n        %s (%s)\n", a->c_str(), b->c_str(),
              *a == *b ? "same" : "DIFFERENT");

  // hotels:search:<location>:<check-in>~<check-out>:<guests>g-<rooms>r[:<hash>]
  const auto hotels = KeySchema("hotels:search")
                          .part("{location}")
                          .part("{check_in_date}~{check_out_date}")
                          .part("{guests}g-{rooms}r")
                          .field("location", {.letter_case = Case::lower})
                          .field("rooms", {.default_value = "1"})
                          .field("amenities", {.letter_case = Case::lower, .order = Order::set})
                          .ignore("adults")
                          .ignore("children");
  auto params = boost::json::parse(R"({"location": "New York", "check_in_date": "2025-07-01",
      "check_out_date": "2025-07-05", "adults": 2, "children": 1, "amenities": ["wifi", "Pool"]})")
                    .as_object();
  params["guests"] = params["adults"].as_int64() + params["children"].as_int64();
  const auto h = hotels.build(params);
  if (!h) return 1;
  std::printf("hotel:  %s\n", h->c_str());

  // A prefix someone typed, in a SCAN MATCH pattern, matches only itself (built keys never hold
  // glob characters: their values are escaped).
  std::printf("pattern: %s*\n", escape_glob("hotels:search:new+york:2025-07-0[1]").c_str());
  return 0;
}
