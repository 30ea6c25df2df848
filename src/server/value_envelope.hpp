#pragma once
// ValueEnvelope: how the REST API keeps a value's Content-Type in the cache. The cache stores
// bytes and a codec (raw, json), no media type, so:
//   application/octet-stream (or none)  -> the body as is, Codec::raw
//   application/json                    -> the body as is, Codec::json
//   anything else                       -> an envelope: "\0tc1" | len (1 byte) | type | body
// A C++ service reading the same namespace sees the exact body for the two common types. A raw
// body that itself starts with the magic is enveloped too, so reading back is never ambiguous.
// Thread-safety: pure functions.

#include "tiercache/cache/entry.hpp"

#include <string>
#include <string_view>

namespace tiercache::server {

struct StoredValue {
  std::string bytes;
  cache::Codec codec = cache::Codec::raw;
};

// REQUIRES: content_type is at most 255 bytes (the caller checks: 400 otherwise).
// force_envelope: envelope even application/json (a batch whose items must share one codec).
StoredValue wrap_value(std::string body, std::string_view content_type,
                       bool force_envelope = false);

struct UnwrappedValue {
  std::string_view body;
  std::string content_type;
};
// The body and its Content-Type; views into `bytes`.
UnwrappedValue unwrap_value(std::string_view bytes, cache::Codec codec);

}  // namespace tiercache::server
