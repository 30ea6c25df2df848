#pragma once
// HistoryEntry: one change of a location's cached events, as kept in its Redis Stream
// ("<prefix>:hist:{<location>}", XADD MAXLEN ~ Options::history_max_len), read back by time.
// Use: auto h = co_await cal.history("paris", since, until, 100);
// Thread-safety: plain values.
//
// Stream fields: op (store | invalidate_range | invalidate_location), from, to (YYYY-MM-DD; absent
// for a location), categories (comma-separated; empty: all), events (count), ids (the first 20
// event ids, comma-separated), ttl_ms (stores).

#include "tiercache/calendar/date.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tiercache::calendar {

struct HistoryEntry {
  // The stream id ("<ms>-<seq>"), and the time it stands for.
  std::string id;
  TimePoint at{};
  std::string op;
  std::optional<DateRange> range{};
  std::vector<std::string> categories;
  std::uint64_t events = 0;
  std::vector<std::string> event_ids;
  std::int64_t ttl_ms = 0;
};

}  // namespace tiercache::calendar
