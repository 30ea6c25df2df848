#include "tiercache/resp/error.hpp"

#include <string>

namespace tiercache::resp {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.resp"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::invalid_type_byte:
        return "RESP: a value starts with a byte that is no RESP2/RESP3 type marker";
      case Errc::invalid_length:
        return "RESP: a length or element count is not a valid number";
      case Errc::invalid_integer:
        return "RESP: an integer is malformed or outside the 64-bit range";
      case Errc::invalid_double:
        return "RESP: a double is malformed";
      case Errc::invalid_boolean:
        return "RESP: a boolean is neither #t nor #f";
      case Errc::invalid_null:
        return "RESP: a null is followed by something other than CRLF";
      case Errc::missing_crlf:
        return "RESP: a line or payload does not end in CRLF";
      case Errc::invalid_verbatim:
        return "RESP: a verbatim string lacks its 3-byte format and colon";
      case Errc::limit_exceeded:
        return "RESP: a reply exceeds the reader's limits (depth, elements, bulk or line size)";
    }
    return "RESP: unknown error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::resp
