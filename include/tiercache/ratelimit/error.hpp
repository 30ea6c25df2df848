#pragma once
// ratelimit::Errc: why a rate-limit call gave no decision, or why a rate-limited load did not
// run. Category "tiercache.ratelimit". A refused request is not an error of Limiter::allow (its
// Decision says allowed = false); it becomes Errc::rate_limited only where a caller needs a
// Result, as RateLimitedLoader does.
// Use: if (r.error() == ratelimit::Errc::rate_limited) reply_429(retry_after);

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::ratelimit {

enum class Errc {
  // The limit refused the request and the wait it would need is longer than allowed; retry
  // after the decision's retry_after.
  rate_limited = 1,
  // The cost is 0 or larger than the limit (the burst, for a token bucket), or the key is empty:
  // no such request can ever pass. Nothing was counted.
  invalid_argument,
  // Redis could not be reached or did not answer in time, and this call has no fallback (peek
  // and reset under fail_open or fail_closed). See the log for the cause.
  redis_unavailable,
  // Redis answered with an error or a reply the script cannot give (an old server without TIME
  // in scripts, OOM, NOPERM, a proxy in the way). The reply's text is in the log.
  unexpected_reply,
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::ratelimit

template <>
struct boost::system::is_error_code_enum<tiercache::ratelimit::Errc> : std::true_type {};
