#include "tiercache/ratelimit/policy.hpp"

#include "tiercache/ratelimit/decision.hpp"

namespace tiercache::ratelimit {

std::string_view to_string(Algorithm algorithm) noexcept {
  switch (algorithm) {
    case Algorithm::sliding_log:
      return "sliding_log";
    case Algorithm::sliding_window:
      return "sliding_window";
    case Algorithm::token_bucket:
      return "token_bucket";
  }
  return "unknown";
}

std::string_view to_string(OnRedisDown mode) noexcept {
  switch (mode) {
    case OnRedisDown::fail_open:
      return "fail_open";
    case OnRedisDown::fail_closed:
      return "fail_closed";
    case OnRedisDown::local:
      return "local";
  }
  return "unknown";
}

std::string_view to_string(Source source) noexcept {
  switch (source) {
    case Source::redis:
      return "redis";
    case Source::fail_open:
      return "fail_open";
    case Source::fail_closed:
      return "fail_closed";
    case Source::local:
      return "local";
  }
  return "unknown";
}

}  // namespace tiercache::ratelimit
