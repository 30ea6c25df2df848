#include "tiercache/health/error.hpp"

#include <string>

namespace tiercache::health {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.health"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::malformed_info:
        return "health: INFO reply is malformed (a line is not 'field:value', or a number is "
               "not a number or out of range)";
      case Errc::incomplete_info:
        return "health: INFO reply lacks redis_version, used_memory or maxmemory";
      case Errc::unexpected_reply:
        return "health: Redis answered a health probe command with an unexpected reply type";
    }
    return "health: unknown error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::health
