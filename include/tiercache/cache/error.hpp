#pragma once
// cache::Errc: why a cache operation gave no value, one value per cause a caller can act on.
// Category "tiercache.cache". A miss is not an error (an empty optional); a stale answer is not
// one either (the read result says where it came from).
// Use: if (r.error() == cache::Errc::corrupt_entry) log.warn("{}: {}", key, r.error().message());

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::cache {

enum class Errc {
  // The bytes under the key start like an entry but are damaged: truncated, inconsistent
  // lengths, a bad checksum or an impossible field. Treated as a miss and overwritten.
  corrupt_entry = 1,
  // The bytes under the key were not written by tiercache (no entry header): someone SET a plain
  // string there. Treated as a miss; write it through the cache or delete it.
  not_an_entry,
  // A newer tiercache wrote the entry (unknown format version, compression or required flag):
  // upgrade this reader, or keep old and new writers on different namespaces.
  unsupported_format_version,
  // The compressed payload would not decompress, or to another size than its header says.
  decompression_failed,
  // The value is larger than Options::max_value_size (on write), or says it decompresses to more
  // than that (on read): raise the limit or store less.
  value_too_large,
  // The loader threw or returned an error; its text is in the log.
  loader_failed,
  // The loader did not answer within the hard timeout and there was nothing stale to serve.
  loader_timeout,
  // Redis could not be reached or did not answer in time, and neither L1 nor a loader could serve.
  redis_unavailable,
  // The key is empty, longer than the maximum, or contains control characters.
  invalid_key,
  // An argument is missing or out of range (the message or the log names it).
  invalid_argument,
  // A configuration file or table is invalid (the message names the field and line); nothing
  // was changed.
  invalid_config,
  // A conditional write (set_if_absent, expire) lost to concurrent writers of the same key
  // several times in a row: try again later, or write less often to one key.
  contention,
  // A typed read (cache/typed.hpp): the bytes are not valid JSON / MessagePack, nest too deep, or
  // do not convert to the requested type (its shape changed?). The reason is logged; delete the
  // key or let it expire.
  decode_failed,
  // A typed read: the entry's header says it was written in the other format (or one this reader
  // does not know). Read it as it was written, or keep the writers on one format.
  codec_mismatch,
  // A typed write: the value does not encode (its to_json threw; for JSON, a string that is not
  // UTF-8). Nothing was written; the reason is logged.
  encode_failed,
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::cache

template <>
struct boost::system::is_error_code_enum<tiercache::cache::Errc> : std::true_type {};
