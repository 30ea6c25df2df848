#pragma once
// Request: one or more Redis commands, encoded as RESP arrays of blob strings when pushed, so a
// connection can append the bytes to its write buffer as they are. Arguments are binary-safe.
// Use: Request req; req.push("SET", key, value, "PX", 5000); req.push("GET", key);
// Thread-safety: not thread-safe; a plain value, cheap to move.

#include <boost/container/small_vector.hpp>

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>

namespace tiercache::resp {

// How a connection must treat a request. Set by push() from the command names it recognizes
// (a small table in request.cpp, matched case-insensitively); a caller may set them too, after
// the last push(). Over several commands: no_reply and idempotent hold when they hold for every
// command, exclusive when it holds for any.
struct RequestFlags {
  // Commands whose answer arrives as push messages, not replies (SUBSCRIBE, PSUBSCRIBE,
  // SSUBSCRIBE and their UNSUBSCRIBEs under RESP3): the connection completes the caller once the
  // request is written. See Request::expected_replies() for a request that mixes them with others.
  bool no_reply = false;
  // Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX, BLMPOP, BZMPOP, WAIT,
  // WAITAOF, MONITOR, XREAD/XREADGROUP with a BLOCK argument) and connection-state commands
  // (WATCH, UNWATCH) that must not run on a shared pipeline. Client gives them a link of their
  // own. Others (CLIENT TRACKING, ...) are the caller's to flag.
  bool exclusive = false;
  // Safe to send again after the link dropped before its reply arrived (reads). Default: no.
  bool idempotent = false;
};

class Request {
 public:
  // Payload bytes held inside the object: a GET or a small SET is built without an allocation.
  // A larger payload lives on the heap and keeps its address when the Request moves.
  static constexpr std::size_t kInlineBytes = 96;

  // Appends one command. Each argument is a string-like value or an integer; floating point
  // values are written in the shortest form that reads back exactly.
  template <class... Args>
  Request& push(std::string_view command, const Args&... args) {
    // One allocation for the command, not one per doubling of the payload.
    payload_.reserve(payload_.size() + kHeaderBound * (2 + sizeof...(Args)) + command.size() +
                     (size_bound(args) + ... + 0));
    start_command(1 + sizeof...(Args), command);
    (append_argument(args), ...);
    return *this;
  }
  // Appends one command whose trailing arguments come from a range (MGET keys..., DEL keys...).
  template <std::ranges::input_range Range>
  Request& push_range(std::string_view command, std::string_view key_or_empty, const Range& args) {
    const std::size_t count = static_cast<std::size_t>(std::ranges::distance(args));
    start_command(1 + (key_or_empty.empty() ? 0 : 1) + count, command);
    if (!key_or_empty.empty()) append_argument(key_or_empty);
    for (const auto& arg : args) append_argument(arg);
    return *this;
  }

  std::string_view payload() const noexcept { return {payload_.data(), payload_.size()}; }
  std::size_t commands() const noexcept { return commands_; }
  // Replies the server sends for this request: commands() minus the no_reply ones.
  std::size_t expected_replies() const noexcept { return replies_; }
  bool empty() const noexcept { return commands_ == 0; }
  RequestFlags& flags() noexcept { return flags_; }
  const RequestFlags& flags() const noexcept { return flags_; }
  void clear() noexcept;
  void reserve(std::size_t bytes) { payload_.reserve(bytes); }

 private:
  void start_command(std::size_t argc, std::string_view command);
  void append_blob(std::string_view bytes) {
    if (watch_block_) [[unlikely]]
      check_block(bytes);
    append_bytes(bytes);
  }
  void append_bytes(std::string_view bytes);
  void check_block(std::string_view argument);
  void append_argument(std::string_view s) { append_blob(s); }
  void append_argument(const std::string& s) { append_blob(s); }
  void append_argument(const char* s) { append_blob(std::string_view(s)); }
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) void append_argument(T value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    append_blob(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }
  void append_argument(double value);

  // Bytes of "$<len>\r\n" + "\r\n" around an argument, and of "*<argc>\r\n", at most, for
  // lengths under 10^11 (Redis takes 512 MB at most). Only a reservation: more still fits.
  static constexpr std::size_t kHeaderBound = 16;
  // An argument's bytes, at most.
  static std::size_t size_bound(std::string_view s) noexcept { return s.size(); }
  static std::size_t size_bound(const std::string& s) noexcept { return s.size(); }
  static std::size_t size_bound(const char* s) noexcept {
    return std::char_traits<char>::length(s);
  }
  template <class T>
  requires std::is_arithmetic_v<T>
  static std::size_t size_bound(T) noexcept { return 32; }

  boost::container::small_vector<char, kInlineBytes> payload_;
  std::size_t commands_ = 0;
  std::size_t replies_ = 0;
  RequestFlags flags_;
  bool watch_block_ = false;  // the current command is XREAD/XREADGROUP: BLOCK makes it exclusive
};

}  // namespace tiercache::resp
