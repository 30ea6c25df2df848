#include "tiercache/ratelimit/error.hpp"

#include <string>

namespace tiercache::ratelimit {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.ratelimit"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::rate_limited:
        return "ratelimit: the limit refused the request for longer than the caller would wait; "
               "retry after the decision's retry_after";
      case Errc::invalid_argument:
        return "ratelimit: the key is empty or the cost is 0 or above the limit (the burst for a "
               "token bucket); nothing was counted";
      case Errc::redis_unavailable:
        return "ratelimit: Redis is unreachable or too slow and this call has no fallback";
      case Errc::unexpected_reply:
        return "ratelimit: Redis answered with an error or an unexpected reply (see the log)";
    }
    return "ratelimit: unknown error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::ratelimit
