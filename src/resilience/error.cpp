#include "tiercache/resilience/error.hpp"

#include <string>

namespace tiercache::resilience {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.resilience"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::circuit_open:
        return "resilience: the circuit breaker is open (the endpoint failed or timed out too "
               "often); the call was not sent";
      case Errc::saturated:
        return "resilience: too many calls in flight to the endpoint; the call was not sent";
    }
    return "resilience: unknown error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::resilience
