#pragma once
// get, set, del, ttl, invalidate and stats have two sources: the daemon's REST API
// (cache_commands.cpp, ops_commands.cpp) and, with --redis, Redis through the library
// (redis_commands.cpp). Both hand what they found to the same printers, so a script sees one
// output whichever it asked.
// Use: if (ctx.redis_mode()) return redis_get(ctx, args); ... return print_value(ctx, a, found);
// Thread-safety: functions of one Context, on the calling thread.

#include "cli/context.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tiercache::cli {

struct KeyArgs {
  std::string ns;
  std::string key;
};

struct SetArgs {
  KeyArgs key;
  std::optional<std::string> value;
  std::string file;
  std::string ttl;
  std::string grace;
  std::vector<std::string> tags;
  std::string priority;
  std::string content_type;
};

struct InvalidateArgs {
  std::string ns;
  std::vector<std::string> keys;
  std::vector<std::string> tags;
  std::string pattern;
  bool all = false;
};

// How long a found value lives: fresh for fresh_ms, gone after ttl_ms.
struct TtlInfo {
  std::int64_t ttl_ms = 0;
  std::int64_t fresh_ms = 0;
  bool stale = false;
};

struct FoundValue {
  std::string body;  // the bytes the writer gave, without the Content-Type envelope
  std::string content_type;
  std::string cache;  // HIT or STALE
  std::string tier;   // l1 or l2
  std::string etag;   // "" when the source has none (Redis)
  bool degraded = false;
  std::optional<TtlInfo> ttl{};
};

// The value set's bytes: the argument, --file or stdin. nullopt after reporting (exit 2).
std::optional<std::string> read_set_value(Context& ctx, const SetArgs& a);

// Printers: human text or --json on stdout, messages on stderr; each returns the exit code.
int print_value(Context& ctx, const KeyArgs& a, const FoundValue& v);
int print_miss(Context& ctx, const KeyArgs& a);  // 1
int print_stored(Context& ctx, const KeyArgs& a, std::size_t bytes);
int print_deleted(Context& ctx, const KeyArgs& a, bool deleted);  // 0 or 1
int print_ttl(Context& ctx, const KeyArgs& a, const TtlInfo& t);
// `result` has the daemon's members: keys_deleted, tags_invalidated, pattern_removed,
// namespace_invalidated.
int print_invalidated(Context& ctx, const InvalidateArgs& a, const boost::json::object& result);

// The --redis side (redis_commands.cpp). REQUIRES: ctx.redis_mode().
int redis_get(Context& ctx, const KeyArgs& a);
int redis_set(Context& ctx, const SetArgs& a);
int redis_del(Context& ctx, const KeyArgs& a);
int redis_ttl(Context& ctx, const KeyArgs& a);
int redis_invalidate(Context& ctx, const InvalidateArgs& a);
// Redis's own figures (INFO) and its keys per namespace (a bounded SCAN); `only`: one namespace.
int redis_stats(Context& ctx, const std::string& only);

}  // namespace tiercache::cli
