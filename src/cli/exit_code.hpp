#pragma once
// ExitCode: what `tiercache` tells the shell, documented in docs/cli.md. Scripts test these, so a
// value never changes meaning.
// Use: return static_cast<int>(ExitCode::not_found);
// Thread-safety: a plain enum.

namespace tiercache::cli {

enum class ExitCode : int {
  ok = 0,
  not_found = 1,     // a miss: no such key, namespace or rate limit
  usage = 2,         // bad arguments, or input the daemon refused (400, 413)
  unreachable = 3,   // no connection, or no answer before the timeout
  auth_refused = 4,  // 401/403: a missing or wrong --token / TIERCACHE_TOKEN
  server_error = 5,  // 5xx, or an answer that is not what the API promises
  refused = 6,       // a "no": health degraded, rate limit exceeded, warm items that failed
  unhealthy = 7,     // health: unhealthy
};

constexpr int to_int(ExitCode c) noexcept { return static_cast<int>(c); }

}  // namespace tiercache::cli
