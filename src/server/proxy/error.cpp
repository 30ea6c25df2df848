#include "server/proxy/error.hpp"

#include <string>

namespace tiercache::server::proxy {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.proxy"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::upstream_unreachable:
        return "proxy: the upstream did not resolve, refused the connection or failed the TLS "
               "handshake; check the route's URL, ca_file and that the upstream is up";
      case Errc::upstream_timeout:
        return "proxy: the upstream did not connect within connect_timeout or answer within "
               "timeout; it is overloaded or hung";
      case Errc::upstream_bad_response:
        return "proxy: the upstream sent something that is not HTTP/1.x or closed the connection "
               "mid-response; check the route's URL (http or https?)";
      case Errc::upstream_body_too_large:
        return "proxy: the upstream's response body is larger than max_body_bytes; raise the "
               "limit or do not proxy this path";
      case Errc::upstream_error_status:
        return "proxy: the upstream answered 5xx or 429; it is failing or shedding load";
      case Errc::upstream_saturated:
        return "proxy: all max_connections to the upstream were busy and none was freed within "
               "the timeout; raise max_connections or make the upstream faster";
      case Errc::invalid_upstream_url:
        return "proxy: the upstream URL is not http(s)://host[:port][/path] without query or "
               "fragment";
      case Errc::upstream_closed:
        return "proxy: tiercached is shutting down; the upstream call was abandoned";
    }
    return "proxy: unknown error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::server::proxy
