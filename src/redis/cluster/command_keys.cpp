// The key rule of the cluster client, from the key specs of `COMMAND INFO` in Redis 7.0, for the
// commands whose keys are not "the first argument". A command missing from the table with at
// least one argument is routed by its first argument: right for every single-key command, and
// for a multi-key command it sends the request to the node of its first key, which answers
// -CROSSSLOT or -MOVED rather than running it in the wrong place.

#include "redis/cluster/command_keys.hpp"

#include "tiercache/redis/slot.hpp"

#include <algorithm>
#include <charconv>

namespace tiercache::redis::detail {
namespace {

enum class Rule {
  first,           // args[1]
  none,            // no key
  all,             // every argument
  pairs,           // MSET k v k v: every other argument
  all_but_last,    // BLPOP k... timeout
  first_two,       // RPOPLPUSH src dst, COPY src dst
  numkeys_at_2,    // EVAL script numkeys k... args...
  numkeys_at_1,    // ZUNION numkeys k..., LMPOP numkeys k...
  dest_numkeys_2,  // ZUNIONSTORE dest numkeys k...
  streams,         // XREAD ... STREAMS k... id...
  second,          // OBJECT ENCODING k, XINFO STREAM k, MEMORY USAGE k
};

struct Entry {
  std::string_view name;
  Rule rule;
};

// Sorted by name for binary search.
constexpr Entry kTable[] = {
    {"ACL", Rule::none},
    {"ASKING", Rule::none},
    {"AUTH", Rule::none},
    {"BGREWRITEAOF", Rule::none},
    {"BGSAVE", Rule::none},
    {"BLMOVE", Rule::first_two},
    {"BLMPOP", Rule::numkeys_at_2},
    {"BLPOP", Rule::all_but_last},
    {"BRPOP", Rule::all_but_last},
    {"BRPOPLPUSH", Rule::first_two},
    {"BZMPOP", Rule::numkeys_at_2},
    {"BZPOPMAX", Rule::all_but_last},
    {"BZPOPMIN", Rule::all_but_last},
    {"CLIENT", Rule::none},
    {"CLUSTER", Rule::none},
    {"COMMAND", Rule::none},
    {"CONFIG", Rule::none},
    {"COPY", Rule::first_two},
    {"DBSIZE", Rule::none},
    {"DEBUG", Rule::none},
    {"DEL", Rule::all},
    {"DISCARD", Rule::none},
    {"ECHO", Rule::none},
    {"EVAL", Rule::numkeys_at_2},
    {"EVALSHA", Rule::numkeys_at_2},
    {"EVALSHA_RO", Rule::numkeys_at_2},
    {"EVAL_RO", Rule::numkeys_at_2},
    {"EXEC", Rule::none},
    {"EXISTS", Rule::all},
    {"FCALL", Rule::numkeys_at_2},
    {"FCALL_RO", Rule::numkeys_at_2},
    {"FLUSHALL", Rule::none},
    {"FLUSHDB", Rule::none},
    {"FUNCTION", Rule::none},
    {"HELLO", Rule::none},
    {"INFO", Rule::none},
    {"KEYS", Rule::none},
    {"LASTSAVE", Rule::none},
    {"LATENCY", Rule::none},
    {"LMOVE", Rule::first_two},
    {"LMPOP", Rule::numkeys_at_1},
    {"MEMORY", Rule::second},
    {"MGET", Rule::all},
    {"MONITOR", Rule::none},
    {"MSET", Rule::pairs},
    {"MSETNX", Rule::pairs},
    {"MULTI", Rule::none},
    {"OBJECT", Rule::second},
    {"PFCOUNT", Rule::all},
    {"PFMERGE", Rule::all},
    {"PING", Rule::none},
    {"PSUBSCRIBE", Rule::none},
    {"PUBLISH", Rule::none},
    {"PUBSUB", Rule::none},
    {"PUNSUBSCRIBE", Rule::none},
    {"QUIT", Rule::none},
    {"RANDOMKEY", Rule::none},
    {"READONLY", Rule::none},
    {"READWRITE", Rule::none},
    {"RENAME", Rule::first_two},
    {"RENAMENX", Rule::first_two},
    {"RESET", Rule::none},
    {"ROLE", Rule::none},
    {"RPOPLPUSH", Rule::first_two},
    {"SAVE", Rule::none},
    {"SCAN", Rule::none},
    {"SCRIPT", Rule::none},
    {"SDIFF", Rule::all},
    {"SDIFFSTORE", Rule::all},
    {"SELECT", Rule::none},
    {"SINTER", Rule::all},
    {"SINTERCARD", Rule::numkeys_at_1},
    {"SINTERSTORE", Rule::all},
    {"SLOWLOG", Rule::none},
    {"SMOVE", Rule::first_two},
    {"SSUBSCRIBE", Rule::all},
    {"SUBSCRIBE", Rule::none},
    {"SUNION", Rule::all},
    {"SUNIONSTORE", Rule::all},
    {"SUNSUBSCRIBE", Rule::all},
    {"TIME", Rule::none},
    {"TOUCH", Rule::all},
    {"UNLINK", Rule::all},
    {"UNSUBSCRIBE", Rule::none},
    {"UNWATCH", Rule::none},
    {"WAIT", Rule::none},
    {"WATCH", Rule::all},
    {"XINFO", Rule::second},
    {"XREAD", Rule::streams},
    {"XREADGROUP", Rule::streams},
    {"ZDIFF", Rule::numkeys_at_1},
    {"ZDIFFSTORE", Rule::dest_numkeys_2},
    {"ZINTER", Rule::numkeys_at_1},
    {"ZINTERCARD", Rule::numkeys_at_1},
    {"ZINTERSTORE", Rule::dest_numkeys_2},
    {"ZMPOP", Rule::numkeys_at_1},
    {"ZRANGESTORE", Rule::first_two},
    {"ZUNION", Rule::numkeys_at_1},
    {"ZUNIONSTORE", Rule::dest_numkeys_2},
};

// Compares a command name, in any case, with an upper-case table name.
int compare_upper(std::string_view s, std::string_view upper) noexcept {
  const std::size_t n = std::min(s.size(), upper.size());
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i])
      return static_cast<unsigned char>(c) < static_cast<unsigned char>(upper[i]) ? -1 : 1;
  }
  if (s.size() == upper.size()) return 0;
  return s.size() < upper.size() ? -1 : 1;
}

Rule rule_of(std::string_view name) noexcept {
  const auto* it = std::lower_bound(
      std::begin(kTable), std::end(kTable), name,
      [](const Entry& e, std::string_view n) { return compare_upper(n, e.name) > 0; });
  if (it != std::end(kTable) && compare_upper(name, it->name) == 0) return it->rule;
  return Rule::first;
}

std::optional<std::size_t> number(std::string_view s) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

void keys_from(std::span<const std::string_view> args, std::size_t first, std::size_t count,
               std::vector<std::string_view>& keys) {
  for (std::size_t i = first; i < args.size() && i < first + count; ++i) keys.push_back(args[i]);
}

// Reads the length line of "<marker><n>\r\n" at `pos`.
std::optional<std::size_t> header(std::string_view p, std::size_t& pos, char marker) {
  if (pos >= p.size() || p[pos] != marker) return std::nullopt;
  const auto end = p.find("\r\n", pos);
  if (end == std::string_view::npos) return std::nullopt;
  const auto n = number(p.substr(pos + 1, end - pos - 1));
  pos = end + 2;
  return n;
}

}  // namespace

bool equals_upper(std::string_view s, std::string_view upper) noexcept {
  return compare_upper(s, upper) == 0;
}

std::optional<std::vector<Command>> split_commands(std::string_view p) {
  std::vector<Command> out;
  std::size_t pos = 0;
  while (pos < p.size()) {
    const auto argc = header(p, pos, '*');
    if (!argc || *argc == 0) return std::nullopt;
    Command cmd;
    cmd.args.reserve(std::min(*argc, p.size() / 4));
    for (std::size_t i = 0; i < *argc; ++i) {
      const auto len = header(p, pos, '$');
      if (!len || *len > p.size() - pos || p.size() - pos - *len < 2) return std::nullopt;
      cmd.args.push_back(p.substr(pos, *len));
      pos += *len + 2;
    }
    out.push_back(std::move(cmd));
  }
  return out;
}

void command_keys(std::span<const std::string_view> args, std::vector<std::string_view>& keys) {
  if (args.size() < 2) return;
  const std::size_t n = args.size();
  switch (rule_of(args[0])) {
    case Rule::none:
      return;
    case Rule::first:
      keys.push_back(args[1]);
      return;
    case Rule::all:
      keys_from(args, 1, n, keys);
      return;
    case Rule::pairs:
      for (std::size_t i = 1; i < n; i += 2) keys.push_back(args[i]);
      return;
    case Rule::all_but_last:
      keys_from(args, 1, n - 2, keys);
      return;
    case Rule::first_two:
      keys_from(args, 1, 2, keys);
      return;
    case Rule::second:
      // MEMORY has keys only in MEMORY USAGE; the other subcommands are server-wide.
      if (n > 2 && (!equals_upper(args[0], "MEMORY") || equals_upper(args[1], "USAGE"))) {
        keys.push_back(args[2]);
      }
      return;
    case Rule::numkeys_at_2:
      if (n > 2) {
        if (const auto k = number(args[2])) keys_from(args, 3, *k, keys);
      }
      return;
    case Rule::numkeys_at_1:
      if (const auto k = number(args[1])) keys_from(args, 2, *k, keys);
      return;
    case Rule::dest_numkeys_2:
      keys.push_back(args[1]);
      if (n > 2) {
        if (const auto k = number(args[2])) keys_from(args, 3, *k, keys);
      }
      return;
    case Rule::streams:
      for (std::size_t i = 1; i < n; ++i) {
        if (equals_upper(args[i], "STREAMS")) {
          keys_from(args, i + 1, (n - i - 1) / 2, keys);
          return;
        }
      }
      return;
  }
}

int command_slot(std::span<const std::string_view> args) {
  std::vector<std::string_view> keys;
  command_keys(args, keys);
  int slot = kNoSlot;
  for (const auto key : keys) {
    const int s = key_slot(key);
    if (slot == kNoSlot) {
      slot = s;
    } else if (slot != s) {
      return kCrossSlot;
    }
  }
  return slot;
}

SplitKind split_kind(std::string_view command) noexcept {
  if (equals_upper(command, "MGET")) return SplitKind::concat;
  if (equals_upper(command, "DEL") || equals_upper(command, "UNLINK") ||
      equals_upper(command, "EXISTS") || equals_upper(command, "TOUCH")) {
    return SplitKind::sum;
  }
  return SplitKind::none;
}

// Commands flagged "readonly" in Redis 7.0's COMMAND INFO that a replica answers from its own
// copy. Left out on purpose: *SCAN (a cursor belongs to one node, and reads may rotate among
// replicas), PFCOUNT (it may rewrite the HyperLogLog), SORT (it may STORE), blocking reads, and
// scripts not marked _RO. Sorted, upper case.
constexpr std::string_view kReadOnly[] = {
    "BITCOUNT",    "BITPOS",     "DUMP",           "EVALSHA_RO",
    "EVAL_RO",     "EXISTS",     "EXPIRETIME",     "FCALL_RO",
    "GEODIST",     "GEOHASH",    "GEOPOS",         "GEOSEARCH",
    "GET",         "GETBIT",     "GETRANGE",       "HEXISTS",
    "HGET",        "HGETALL",    "HKEYS",          "HLEN",
    "HMGET",       "HRANDFIELD", "HSTRLEN",        "HVALS",
    "LCS",         "LINDEX",     "LLEN",           "LPOS",
    "LRANGE",      "MGET",       "PEXPIRETIME",    "PTTL",
    "SCARD",       "SDIFF",      "SINTER",         "SINTERCARD",
    "SISMEMBER",   "SMEMBERS",   "SMISMEMBER",     "SORT_RO",
    "SRANDMEMBER", "STRLEN",     "SUBSTR",         "SUNION",
    "TTL",         "TYPE",       "XLEN",           "XRANGE",
    "XREVRANGE",   "ZCARD",      "ZCOUNT",         "ZDIFF",
    "ZINTER",      "ZINTERCARD", "ZLEXCOUNT",      "ZMSCORE",
    "ZRANDMEMBER", "ZRANGE",     "ZRANGEBYLEX",    "ZRANGEBYSCORE",
    "ZRANK",       "ZREVRANGE",  "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE",
    "ZREVRANK",    "ZSCORE",     "ZUNION",
};

bool read_only(std::string_view command) noexcept {
  const auto* it = std::lower_bound(
      std::begin(kReadOnly), std::end(kReadOnly), command,
      [](std::string_view e, std::string_view n) { return compare_upper(n, e) > 0; });
  return it != std::end(kReadOnly) && compare_upper(command, *it) == 0;
}

}  // namespace tiercache::redis::detail
