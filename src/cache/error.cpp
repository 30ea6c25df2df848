#include "tiercache/cache/error.hpp"

#include <string>

namespace tiercache::cache {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.cache"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::corrupt_entry:
        return "cache: the entry under this key is damaged (truncated, bad lengths or checksum); "
               "treated as a miss";
      case Errc::not_an_entry:
        return "cache: the value under this key was not written by tiercache (a plain string?); "
               "treated as a miss: delete it or write it through the cache";
      case Errc::unsupported_format_version:
        return "cache: the entry was written by a newer tiercache (unknown format version, "
               "compression or flag); upgrade this reader";
      case Errc::decompression_failed:
        return "cache: the entry's payload does not decompress to the size its header states";
      case Errc::value_too_large:
        return "cache: the value is larger than max_value_size; raise the limit or store less";
      case Errc::loader_failed:
        return "cache: the loader failed (its error is in the log) and nothing stale was left";
      case Errc::loader_timeout:
        return "cache: the loader did not answer within the hard timeout and nothing stale was "
               "left";
      case Errc::redis_unavailable:
        return "cache: Redis is unreachable or too slow, and neither L1 nor a loader could serve";
      case Errc::invalid_key:
        return "cache: the key is empty, too long, or contains control characters";
      case Errc::invalid_argument:
        return "cache: an argument is missing or out of range";
      case Errc::invalid_config:
        return "cache: the configuration is invalid (see the field and line named); nothing "
               "changed";
      case Errc::contention:
        return "cache: concurrent writers of the key kept winning; try again later";
      case Errc::decode_failed:
        return "cache: the value does not decode into the requested type (not valid JSON or "
               "MessagePack, too deeply nested, or another shape); the reason is in the log";
      case Errc::codec_mismatch:
        return "cache: the entry was written in another format than the one it is read as "
               "(its header names the codec)";
      case Errc::encode_failed:
        return "cache: the value does not encode (a conversion threw, or a JSON string is not "
               "UTF-8); nothing was written";
    }
    return "cache: unknown error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace tiercache::cache
