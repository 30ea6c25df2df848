#pragma once
// Which arguments of a Redis command are keys, so a cluster client can route it by slot, and the
// commands' boundaries inside an encoded resp::Request. The rule, by command name
// (case-insensitive): a table for commands whose keys are not simply the first argument (see
// command_keys.cpp); no key for server, connection and pub/sub commands; otherwise the first
// argument, as for GET, SET, INCRBY, PEXPIRE, HSET...
// Use: auto cmds = split_commands(req.payload()); int slot = command_slot(cmds->front().args);
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace tiercache::redis::detail {

// One command of an encoded request; views into the payload.
struct Command {
  std::vector<std::string_view> args;  // args[0] is the command name
};

// Splits a payload made by resp::Request::push (arrays of blob strings). nullopt when the bytes
// are not that shape.
std::optional<std::vector<Command>> split_commands(std::string_view payload);

// Case-insensitive: equals_upper("mget", "MGET").
bool equals_upper(std::string_view s, std::string_view upper) noexcept;

// Appends the keys of a command (views into `args`) to `keys`.
void command_keys(std::span<const std::string_view> args, std::vector<std::string_view>& keys);

inline constexpr int kNoSlot = -1;     // the command has no key: any node can run it
inline constexpr int kCrossSlot = -2;  // its keys fall in different slots

// The one slot of the command's keys, kNoSlot or kCrossSlot.
int command_slot(std::span<const std::string_view> args);

// Multi-key commands a cluster client may split by slot and put back together.
enum class SplitKind {
  none,
  concat,  // MGET: the arrays in key order
  sum,     // DEL, UNLINK, EXISTS, TOUCH: the integers added
};
SplitKind split_kind(std::string_view command) noexcept;

// Whether a replica may answer the command (READONLY): GET, MGET, EXISTS, PTTL, HGETALL,
// ZRANGE, EVALSHA_RO... (case-insensitive). Never a script that may write, MULTI or WATCH.
bool read_only(std::string_view command) noexcept;

}  // namespace tiercache::redis::detail
