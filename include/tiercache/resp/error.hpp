#pragma once
// resp::Errc: why bytes could not be decoded as RESP. Category "tiercache.resp".
// Use: if (r.error() == resp::Errc::limit_exceeded) ...  Every value reads as a sentence.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::resp {

enum class Errc {
  invalid_type_byte = 1,  // the first byte of a value is not a RESP2/RESP3 type marker
  invalid_length,         // a length or count is not a number, is negative where it may not be
  invalid_integer,        // an integer is malformed or out of the 64-bit range
  invalid_double,         // a double is malformed
  invalid_boolean,        // a boolean is neither #t nor #f
  invalid_null,           // '_' followed by something other than CRLF
  missing_crlf,           // a line or payload does not end in CRLF
  invalid_verbatim,       // a verbatim string lacks its 3-byte format and colon
  limit_exceeded,         // depth, element count, bulk size or line length over ReaderLimits
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::resp

template <>
struct boost::system::is_error_code_enum<tiercache::resp::Errc> : std::true_type {};
