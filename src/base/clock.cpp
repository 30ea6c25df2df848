#include "tiercache/base/clock.hpp"

namespace tiercache {
namespace {

class RealClock final : public Clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace

const Clock& Clock::real() noexcept {
  static const RealClock clock;
  return clock;
}

}  // namespace tiercache
