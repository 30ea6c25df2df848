#pragma once
// resilience::Errc: why a guarded call was refused before it reached its dependency. Category
// "tiercache.resilience". Both are fail-fast answers: nothing was sent, so a caller may fall back
// (L1, a loader, a stale value) at once and must not count the call as the dependency's failure.
// Use: if (ec == resilience::Errc::circuit_open) serve_degraded();

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::resilience {

enum class Errc {
  // The circuit breaker of this endpoint is open (it failed or timed out too often, or a probe
  // failed); the call was not sent. It admits probes again after its cool-down.
  circuit_open = 1,
  // The bound on calls in flight to this endpoint is reached (the endpoint is slow); the call was
  // not sent. Retry later, or raise the bound if the endpoint is healthy and simply busy.
  saturated,
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::resilience

template <>
struct boost::system::is_error_code_enum<tiercache::resilience::Errc> : std::true_type {};
