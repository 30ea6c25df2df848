#pragma once
// ReadResult: what a read found and where: the entry (or none), the tier it came from, whether it
// is stale, whether the cache is degraded (Redis unreachable), and the error a fail-safe answer
// masked. A miss is not an error.
// Use: auto r = co_await cache.get_or_load(key, loader); if (r && r->hit()) use(r->value());
// Thread-safety: a plain value; the entry is immutable and shared with L1.

#include "tiercache/base/result.hpp"
#include "tiercache/cache/entry.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tiercache::cache {

// Where an answer came from.
enum class Source : std::uint8_t {
  none,    // a miss: nothing under the key (or nothing valid)
  l1,      // the in-process tier
  l2,      // Redis
  loader,  // the loader ran for this call (or for the single flight it joined)
  stale,   // a stale value served by stale-while-revalidate, the soft timeout or fail-safe
};

std::string_view to_string(Source source) noexcept;

struct ReadResult {
  std::shared_ptr<const Entry> entry{};
  Source source = Source::none;
  // The value is past its fresh_until (inside its grace window).
  bool stale = false;
  // Redis could not be reached for this answer: it came from L1 or a loader alone.
  bool degraded = false;
  // What went wrong behind a fail-safe or degraded answer (loader_failed, loader_timeout,
  // redis_unavailable, corrupt_entry, not_an_entry...); empty when nothing did.
  error_code error{};

  bool hit() const noexcept { return entry != nullptr; }
  // REQUIRES: hit().
  const std::string& value() const noexcept { return entry->value; }
};

}  // namespace tiercache::cache
