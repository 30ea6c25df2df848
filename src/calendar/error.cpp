#include "tiercache/calendar/error.hpp"

#include <string>

namespace tiercache::calendar {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.calendar"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::invalid_location:
        return "calendar: the location is empty, too long, or contains control characters";
      case Errc::invalid_date:
        return "calendar: a date or time is not ISO-8601 (YYYY-MM-DD or "
               "YYYY-MM-DDTHH:MM:SS[.fff]Z) or not a real day";
      case Errc::invalid_range:
        return "calendar: the date range ends before it starts";
      case Errc::range_too_long:
        return "calendar: the date range spans more days than max_range_days; ask for less";
      case Errc::invalid_ttl:
        return "calendar: the TTL must be positive and at most max_ttl";
      case Errc::invalid_event:
        return "calendar: an event is malformed (no id, duplicate id, end before start, outside "
               "the range, none of the stored categories, or too large); nothing was stored";
      case Errc::invalid_argument:
        return "calendar: an argument is missing or out of range";
      case Errc::loader_failed:
        return "calendar: the warm loader failed (its error is in the log)";
      case Errc::contention:
        return "calendar: concurrent writers kept changing the location's index; try again";
      case Errc::corrupt_data:
        return "calendar: data under a calendar key is damaged or was not written by the "
               "calendar";
    }
    return "calendar: unknown error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::calendar
