#pragma once
// health::Errc: why a health probe could not read what it asked Redis for. Category
// "tiercache.health". A probe that fails this way reports Redis as unhealthy with the message.
// Use: auto info = parse_redis_info(text); if (!info) log(info.error().message());

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::health {

enum class Errc {
  // The INFO text has a line that is neither a "# Section" header nor "field:value", or a field
  // this layer reads is not a number where it must be one, or is out of range.
  malformed_info = 1,
  // The INFO text lacks a field the assessment needs (redis_version, used_memory, maxmemory).
  incomplete_info,
  // Redis answered a command of the probe with something else than that command returns.
  unexpected_reply,
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::health

template <>
struct boost::system::is_error_code_enum<tiercache::health::Errc> : std::true_type {};
