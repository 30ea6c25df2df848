#pragma once
// Keys and names of the calendar: how a location, a category set and a day become Redis keys, and
// how locations and categories are normalized before they do.
//
// Every key of one location carries the hash tag "{<escaped location>}", so the keys one operation
// touches together (a location's index, buckets, rankings, days, history) share a Redis Cluster
// slot. Two keys are fleet-wide and stand alone: "<prefix>:popularity" and "<prefix>:locations".
//
//   cache entries (inside the cache namespace "<prefix>", so "<prefix>:v<N>:" comes first):
//     idx:{loc}                    the coverage index (JSON), tagged loc:<loc>
//     ev:{loc}:<day>:<catkey>      the events of one day from one category set (JSON array)
//     sum:{loc}:<day>              the day's summary (JSON), Options::summary_ttl
//   plain Redis keys:
//     <prefix>:rank:{loc}:<day>:start|score   sorted sets of event ids
//     <prefix>:days:{loc}                      days with rankings, scored by their expiry (ms)
//     <prefix>:hist:{loc}                      the history stream
//     <prefix>:popularity                      location -> gets
//     <prefix>:locations                       location -> when its earliest data expires (ms)

#include "tiercache/base/result.hpp"
#include "tiercache/calendar/date.hpp"
#include "tiercache/calendar/lookup.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tiercache::calendar::detail {

// Trimmed, inner whitespace runs squeezed to one space, ASCII lower case; invalid_location when
// empty, longer than max_size, or holding control characters.
[[nodiscard]] Result<std::string> normalize_location(std::string_view text, std::size_t max_size);
// Trimmed and lower-cased; invalid_argument when empty, longer than 64 bytes, or holding a comma
// or control characters.
[[nodiscard]] Result<std::string> normalize_category(std::string_view text);
// Each normalized, sorted, without duplicates.
[[nodiscard]] Result<std::vector<std::string>> normalize_categories(
    const std::vector<std::string>& categories);
// "all" for the empty set, else "c" + 16 hex digits of XXH3-64 over the sorted names.
std::string category_key(const std::vector<std::string>& sorted);

class Keys {
 public:
  Keys(std::string_view prefix, std::string_view location);

  const std::string& location() const noexcept { return location_; }
  // Cache keys (the cache adds "<prefix>:v<N>:").
  std::string index() const;
  std::string bucket(Day day, std::string_view catkey) const;
  std::string summary(Day day) const;
  // The cache tag every cache entry of the location carries.
  std::string tag() const;
  // Plain Redis keys.
  std::string rank(Day day, Ranking by) const;
  std::string days() const;
  std::string history() const;

 private:
  std::string prefix_;
  std::string location_;
  std::string hash_tag_;  // "{<escaped location>}"
};

std::string popularity_key(std::string_view prefix);
std::string locations_key(std::string_view prefix);

}  // namespace tiercache::calendar::detail
