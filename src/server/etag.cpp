#include "server/etag.hpp"

#include <fmt/format.h>

#include <functional>

namespace tiercache::server {

std::string etag_of(const cache::Entry& entry) {
  if (entry.version != 0) return fmt::format("\"v{:x}\"", entry.version);
  const std::size_t h = std::hash<std::string_view>{}(entry.value) ^
                        static_cast<std::size_t>(entry.created.time_since_epoch().count());
  return fmt::format("\"h{:x}\"", h);
}

bool if_none_match(std::string_view header, std::string_view etag) {
  std::size_t i = 0;
  while (i < header.size()) {
    auto comma = header.find(',', i);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(i, comma - i);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == etag) return true;
    i = comma + 1;
  }
  return false;
}

}  // namespace tiercache::server
