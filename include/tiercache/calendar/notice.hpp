#pragma once
// InvalidationNotice: the JSON message the calendar PUBLISHes on Options::invalidation_channel
// ("tiercache:calendar:invalidations" by default) after every invalidation, so other services
// can drop what they derived from those events. Delivery is Redis pub/sub: at most once.
// Use: sub.subscribe({"tiercache:calendar:invalidations"}, [](auto, std::string_view msg) {
//        if (auto n = calendar::parse_notice(msg)) drop(n->location, n->range); });
// Thread-safety: plain values.
//
// {"type": "invalidate_range", "prefix": "calendar", "location": "paris",
//  "from": "2026-05-03", "to": "2026-05-05", "at": "2026-05-01T10:00:00.123Z"}
// {"type": "invalidate_location", "prefix": "calendar", "location": "paris", "at": "..."}

#include "tiercache/base/result.hpp"
#include "tiercache/calendar/date.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tiercache::calendar {

struct InvalidationNotice {
  enum class Kind { range, location };
  Kind kind = Kind::range;
  // Options::prefix of the calendar that sent it (several calendars may share a channel).
  std::string prefix;
  std::string location;              // normalized
  std::optional<DateRange> range{};  // for Kind::range
  TimePoint at{};

  friend bool operator==(const InvalidationNotice&, const InvalidationNotice&) = default;
};

std::string to_json_text(const InvalidationNotice& notice);
// Fails with Errc::invalid_argument when the text is not such a notice.
[[nodiscard]] Result<InvalidationNotice> parse_notice(std::string_view text);

}  // namespace tiercache::calendar
