#pragma once
// Text helpers of the human output: aligned tables, byte and duration formats, and the counters
// read out of the daemon's JSON for them. (Whether a value
// travels in JSON as a string or as base64: tiercache/base/json_text.hpp, as the daemon does.)
// Use: Table t({"NAMESPACE", "HITS"}); t.add({"users", "12"}); t.print(out);
// Thread-safety: values and pure functions.

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::cli {

// Columns padded to their widest cell; the first column left-aligned, the others right-aligned
// (they are numbers), two spaces between columns.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  // REQUIRES: row.size() == the header's size.
  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// The counter `name` of a daemon's JSON object: 0 when absent, negative or not a number.
std::uint64_t count_of(const boost::json::object& o, std::string_view name);

// 1536 -> "1.5 KiB".
std::string human_bytes(std::uint64_t bytes);
// 0.9312 -> "93.1%".
std::string percent(double fraction);
// 0.25 ms -> "250 us"; 1534 ms -> "1.53 s"; 599 s -> "9m 59s".
std::string human_duration(std::chrono::nanoseconds d);
// "90s", "10m", "1h30m", "500ms", "2" (seconds) -> a duration; nullopt when not one.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace tiercache::cli
