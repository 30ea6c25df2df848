#include "calendar/keys.hpp"

#include "tiercache/cache/key_builder.hpp"
#include "tiercache/calendar/error.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>

namespace tiercache::calendar::detail {
namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Trims, squeezes whitespace runs to one space and folds ASCII to lower case; nullopt on other
// control characters.
std::optional<std::string> fold(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (is_control(c)) return std::nullopt;
    if (pending_space) out += ' ';
    pending_space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

}  // namespace

Result<std::string> normalize_location(std::string_view text, std::size_t max_size) {
  auto folded = fold(text);
  if (!folded || folded->empty() || folded->size() > max_size) return Errc::invalid_location;
  return std::move(*folded);
}

Result<std::string> normalize_category(std::string_view text) {
  auto folded = fold(text);
  if (!folded || folded->empty() || folded->size() > 64 || folded->find(',') != std::string::npos) {
    return Errc::invalid_argument;
  }
  return std::move(*folded);
}

Result<std::vector<std::string>> normalize_categories(const std::vector<std::string>& categories) {
  std::vector<std::string> out;
  out.reserve(categories.size());
  for (const auto& c : categories) {
    auto n = normalize_category(c);
    if (!n) return n.error();
    out.push_back(std::move(*n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string category_key(const std::vector<std::string>& sorted) {
  if (sorted.empty()) return "all";
  std::string joined;
  for (const auto& c : sorted) {
    joined += c;
    joined += ',';
  }
  return fmt::format("c{:016x}", XXH3_64bits(joined.data(), joined.size()));
}

Keys::Keys(std::string_view prefix, std::string_view location)
    : prefix_(prefix),
      location_(location),
      hash_tag_("{" + cache::escape_key_part(location) + "}") {}

std::string Keys::index() const { return "idx:" + hash_tag_; }
std::string Keys::bucket(Day day, std::string_view catkey) const {
  return fmt::format("ev:{}:{}:{}", hash_tag_, format_day(day), catkey);
}
std::string Keys::summary(Day day) const {
  return fmt::format("sum:{}:{}", hash_tag_, format_day(day));
}
std::string Keys::tag() const { return "loc:" + cache::escape_key_part(location_); }
std::string Keys::rank(Day day, Ranking by) const {
  return fmt::format("{}:rank:{}:{}:{}", prefix_, hash_tag_, format_day(day),
                     by == Ranking::start_time ? "start" : "score");
}
std::string Keys::days() const { return fmt::format("{}:days:{}", prefix_, hash_tag_); }
std::string Keys::history() const { return fmt::format("{}:hist:{}", prefix_, hash_tag_); }

std::string popularity_key(std::string_view prefix) { return fmt::format("{}:popularity", prefix); }
std::string locations_key(std::string_view prefix) { return fmt::format("{}:locations", prefix); }

}  // namespace tiercache::calendar::detail
