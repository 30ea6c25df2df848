#include "tiercache/resp/request.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace tiercache::resp {
namespace {

enum Kind : std::uint8_t {
  kOther,
  kNoReply,
  kExclusive,
  kIdempotent,
  kXread,       // idempotent; exclusive with BLOCK
  kXreadgroup,  // exclusive with BLOCK
};

struct Entry {
  std::string_view name;  // upper case
  Kind kind;
};

// Commands the flags know, sorted by name. Read-only commands are idempotent (a retry after a
// lost reply reads again); writes are not listed. XREAD and XREADGROUP are exclusive when an
// option before STREAMS is BLOCK; XREAD is also idempotent, XREADGROUP (which moves entries to
// its group's pending list) is not.
constexpr std::array kCommands = {
    Entry{"BITCOUNT", kIdempotent},
    Entry{"BLMOVE", kExclusive},
    Entry{"BLMPOP", kExclusive},
    Entry{"BLPOP", kExclusive},
    Entry{"BRPOP", kExclusive},
    Entry{"BRPOPLPUSH", kExclusive},
    Entry{"BZMPOP", kExclusive},
    Entry{"BZPOPMAX", kExclusive},
    Entry{"BZPOPMIN", kExclusive},
    Entry{"DBSIZE", kIdempotent},
    Entry{"ECHO", kIdempotent},
    Entry{"EXISTS", kIdempotent},
    Entry{"EXPIRETIME", kIdempotent},
    Entry{"GET", kIdempotent},
    Entry{"GETBIT", kIdempotent},
    Entry{"GETRANGE", kIdempotent},
    Entry{"HEXISTS", kIdempotent},
    Entry{"HGET", kIdempotent},
    Entry{"HGETALL", kIdempotent},
    Entry{"HKEYS", kIdempotent},
    Entry{"HLEN", kIdempotent},
    Entry{"HMGET", kIdempotent},
    Entry{"HSCAN", kIdempotent},
    Entry{"HSTRLEN", kIdempotent},
    Entry{"HVALS", kIdempotent},
    Entry{"LINDEX", kIdempotent},
    Entry{"LLEN", kIdempotent},
    Entry{"LRANGE", kIdempotent},
    Entry{"MGET", kIdempotent},
    Entry{"MONITOR", kExclusive},
    Entry{"PEXPIRETIME", kIdempotent},
    Entry{"PING", kIdempotent},
    Entry{"PSUBSCRIBE", kNoReply},
    Entry{"PTTL", kIdempotent},
    Entry{"PUNSUBSCRIBE", kNoReply},
    Entry{"SCAN", kIdempotent},
    Entry{"SCARD", kIdempotent},
    Entry{"SISMEMBER", kIdempotent},
    Entry{"SMEMBERS", kIdempotent},
    Entry{"SMISMEMBER", kIdempotent},
    Entry{"SSCAN", kIdempotent},
    Entry{"SSUBSCRIBE", kNoReply},
    Entry{"STRLEN", kIdempotent},
    Entry{"SUBSCRIBE", kNoReply},
    Entry{"SUNSUBSCRIBE", kNoReply},
    Entry{"TTL", kIdempotent},
    Entry{"TYPE", kIdempotent},
    Entry{"UNSUBSCRIBE", kNoReply},
    Entry{"UNWATCH", kExclusive},
    Entry{"WAIT", kExclusive},
    Entry{"WAITAOF", kExclusive},
    Entry{"WATCH", kExclusive},
    Entry{"XLEN", kIdempotent},
    Entry{"XRANGE", kIdempotent},
    Entry{"XREAD", kXread},
    Entry{"XREADGROUP", kXreadgroup},
    Entry{"XREVRANGE", kIdempotent},
    Entry{"ZCARD", kIdempotent},
    Entry{"ZCOUNT", kIdempotent},
    Entry{"ZMSCORE", kIdempotent},
    Entry{"ZRANGE", kIdempotent},
    Entry{"ZRANGEBYSCORE", kIdempotent},
    Entry{"ZRANK", kIdempotent},
    Entry{"ZREVRANGE", kIdempotent},
    Entry{"ZREVRANK", kIdempotent},
    Entry{"ZSCAN", kIdempotent},
    Entry{"ZSCORE", kIdempotent},
};
static_assert(std::ranges::is_sorted(kCommands, {}, &Entry::name));

constexpr std::size_t kLongestName = 16;

// Where the names starting with each letter begin in kCommands: [first[c], first[c + 1]).
constexpr auto kFirstByLetter = [] {
  std::array<std::uint8_t, 27> first{};
  std::size_t i = 0;
  for (char c = 'A'; c <= 'Z'; ++c) {
    first[static_cast<std::size_t>(c - 'A')] = static_cast<std::uint8_t>(i);
    while (i < kCommands.size() && kCommands[i].name[0] == c) ++i;
  }
  first[26] = static_cast<std::uint8_t>(kCommands.size());
  return first;
}();

// Every request looks its command up, so this is on the hot path: a few comparisons among the
// names of one first letter, not a binary search over all of them.
const Entry* find_command(std::string_view name) noexcept {
  if (name.empty() || name.size() > kLongestName) return nullptr;
  char upper[kLongestName];
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    upper[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c;
  }
  if (upper[0] < 'A' || upper[0] > 'Z') return nullptr;
  const std::string_view key(upper, name.size());
  const auto letter = static_cast<std::size_t>(upper[0] - 'A');
  for (std::size_t i = kFirstByLetter[letter]; i < kFirstByLetter[letter + 1]; ++i) {
    if (kCommands[i].name == key) return &kCommands[i];
  }
  return nullptr;
}

bool equals_upper(std::string_view s, std::string_view upper) noexcept {
  return s.size() == upper.size() &&
         std::equal(s.begin(), s.end(), upper.begin(), [](char a, char b) {
           return (a >= 'a' && a <= 'z' ? static_cast<char>(a - ('a' - 'A')) : a) == b;
         });
}

// "\r\n" + marker + decimal + "\r\n" written at `out`; returns the end.
char* write_header(char* out, char marker, std::size_t n) noexcept {
  *out++ = marker;
  out = std::to_chars(out, out + 20, n).ptr;
  *out++ = '\r';
  *out++ = '\n';
  return out;
}

}  // namespace

void Request::start_command(std::size_t argc, std::string_view command) {
  char header[24];
  payload_.insert(payload_.end(), header, write_header(header, '*', argc));

  const Entry* entry = find_command(command);
  const Kind kind = entry == nullptr ? kOther : entry->kind;
  const bool no_reply = kind == kNoReply;
  const bool idempotent = kind == kIdempotent || kind == kXread;
  flags_.no_reply = (commands_ == 0 || flags_.no_reply) && no_reply;
  flags_.idempotent = (commands_ == 0 || flags_.idempotent) && idempotent;
  flags_.exclusive = flags_.exclusive || kind == kExclusive;
  ++commands_;
  if (!no_reply) ++replies_;
  watch_block_ = false;
  append_bytes(command);
  watch_block_ = kind == kXread || kind == kXreadgroup;
}

void Request::append_bytes(std::string_view bytes) {
  char header[24];
  char* const end = write_header(header, '$', bytes.size());
  const auto header_size = static_cast<std::size_t>(end - header);
  const std::size_t at = payload_.size();
  payload_.resize(at + header_size + bytes.size() + 2, boost::container::default_init);
  char* out = payload_.data() + at;
  std::memcpy(out, header, header_size);
  out += header_size;
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  out[bytes.size()] = '\r';
  out[bytes.size() + 1] = '\n';
}

// Options come before STREAMS; after it, arguments are stream names and ids, never options.
void Request::check_block(std::string_view argument) {
  if (equals_upper(argument, "BLOCK")) {
    flags_.exclusive = true;
    watch_block_ = false;
  } else if (equals_upper(argument, "STREAMS")) {
    watch_block_ = false;
  }
}

void Request::append_argument(double value) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  append_blob(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

void Request::clear() noexcept {
  payload_.clear();
  commands_ = 0;
  replies_ = 0;
  flags_ = {};
  watch_block_ = false;
}

}  // namespace tiercache::resp
