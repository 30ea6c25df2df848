#include "tiercache/calendar/date.hpp"

#include "tiercache/calendar/error.hpp"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace tiercache::calendar {
namespace {

using namespace std::chrono;

// Reads exactly `n` decimal digits at text[at...].
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t n) {
  if (at + n > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<Day> day_at(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = digits(text, 0, 4);
  const auto m = digits(text, 5, 2);
  const auto d = digits(text, 8, 2);
  if (!y || !m || !d || *y < 1900) return std::nullopt;
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*m)),
                           day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return sys_days(ymd);
}

}  // namespace

Result<Day> parse_day(std::string_view text) {
  if (text.size() != 10) return Errc::invalid_date;
  const auto d = day_at(text);
  if (!d) return Errc::invalid_date;
  return *d;
}

std::string format_day(Day day) {
  const year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

Result<DateRange> parse_range(std::string_view from, std::string_view to) {
  auto f = parse_day(from);
  if (!f) return f.error();
  auto t = parse_day(to);
  if (!t) return t.error();
  if (*t < *f) return Errc::invalid_range;
  return DateRange{*f, *t};
}

Result<TimePoint> parse_time(std::string_view text) {
  const auto d = day_at(text);
  if (!d) return Errc::invalid_date;
  if (text.size() == 10) return TimePoint(*d);
  const char sep = text[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return Errc::invalid_date;
  const auto hh = digits(text, 11, 2);
  const auto mm = digits(text, 14, 2);
  if (!hh || !mm || text.size() < 16 || text[13] != ':' || *hh > 23 || *mm > 59) {
    return Errc::invalid_date;
  }
  std::size_t at = 16;
  int ss = 0;
  int millis = 0;
  if (at < text.size() && text[at] == ':') {
    const auto s = digits(text, at + 1, 2);
    if (!s || *s > 60) return Errc::invalid_date;  // 60: a leap second, read as :59 + 1 s
    ss = *s;
    at += 3;
    if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
      ++at;
      const std::size_t start = at;
      int scale = 100;
      while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
        millis += (text[at] - '0') * scale;
        scale /= 10;
        ++at;
      }
      if (at == start || at - start > 9) return Errc::invalid_date;
    }
  }
  minutes offset{0};
  if (at < text.size()) {
    const char z = text[at];
    if ((z == 'Z' || z == 'z') && at + 1 == text.size()) {
      at += 1;
    } else if ((z == '+' || z == '-') && at + 6 == text.size() && text[at + 3] == ':') {
      const auto oh = digits(text, at + 1, 2);
      const auto om = digits(text, at + 4, 2);
      if (!oh || !om || *oh > 23 || *om > 59) return Errc::invalid_date;
      offset = hours(*oh) + minutes(*om);
      if (z == '-') offset = -offset;
      at += 6;
    } else {
      return Errc::invalid_date;
    }
  }
  if (at != text.size()) return Errc::invalid_date;
  return TimePoint(*d) + hours(*hh) + minutes(*mm) + seconds(ss) + milliseconds(millis) - offset;
}

std::string format_time(TimePoint time) {
  const Day d = day_of(time);
  const hh_mm_ss<milliseconds> hms(time - d);
  const auto ms = hms.subseconds().count();
  if (ms == 0) {
    return fmt::format("{}T{:02}:{:02}:{:02}Z", format_day(d), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count());
  }
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", format_day(d), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), ms);
}

}  // namespace tiercache::calendar
