// Durations and sizes, parsed with explicit bounds so that no input overflows.

#include "server/units.hpp"

#include <cstdint>

namespace tiercache::server {
namespace {

constexpr std::int64_t kMaxDurationMs = 10LL * 365 * 86'400'000;
constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 40;

// Reads digits at text[i...]; nullopt when there are none or they exceed `limit`.
std::optional<std::uint64_t> digits(std::string_view text, std::size_t& i, std::uint64_t limit) {
  const std::size_t start = i;
  std::uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    n = n * 10 + static_cast<std::uint64_t>(text[i++] - '0');
    if (n > limit) return std::nullopt;
  }
  if (i == start) return std::nullopt;
  return n;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  std::int64_t total = 0;
  while (i < text.size()) {
    const auto n = digits(text, i, static_cast<std::uint64_t>(kMaxDurationMs));
    if (!n) return std::nullopt;
    if (i == text.size()) {
      // A bare number counts seconds, and only when it is the whole text.
      if (total != 0 || text.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
      }
      if (*n > static_cast<std::uint64_t>(kMaxDurationMs / 1000)) return std::nullopt;
      return std::chrono::seconds(*n);
    }
    std::int64_t unit = 0;
    if (text.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else {
      switch (text[i]) {
        case 's':
          unit = 1000;
          break;
        case 'm':
          unit = 60'000;
          break;
        case 'h':
          unit = 3'600'000;
          break;
        case 'd':
          unit = 86'400'000;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    }
    if (*n > static_cast<std::uint64_t>(kMaxDurationMs / unit)) return std::nullopt;
    total += static_cast<std::int64_t>(*n) * unit;
    if (total > kMaxDurationMs) return std::nullopt;
  }
  return std::chrono::milliseconds(total);
}

std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t i = 0;
  const auto n = digits(text, i, kMaxSize);
  if (!n) return std::nullopt;
  const std::string_view suffix = text.substr(i);
  std::uint64_t unit = 0;
  if (suffix.empty() || suffix == "B") {
    unit = 1;
  } else if (suffix == "K" || suffix == "KB" || suffix == "KiB") {
    unit = 1 << 10;
  } else if (suffix == "M" || suffix == "MB" || suffix == "MiB") {
    unit = 1 << 20;
  } else if (suffix == "G" || suffix == "GB" || suffix == "GiB") {
    unit = 1 << 30;
  } else {
    return std::nullopt;
  }
  if (*n > kMaxSize / unit) return std::nullopt;
  return static_cast<std::size_t>(*n * unit);
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

}  // namespace tiercache::server
