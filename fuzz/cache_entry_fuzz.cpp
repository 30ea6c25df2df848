// Fuzzes the L2 entry reader (src/cache/entry_format.cpp) with whatever may sit under a key.
// Checks: no input crashes it, reads outside the bytes or allocates past max_value_size; the
// header reader and the full reader agree; an accepted entry re-encodes, under every compression,
// to bytes that decode to the same entry; an uncompressed v1 entry re-encodes to its own bytes.
#include "tiercache/cache/entry_format.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace tiercache::cache;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t limit = std::size_t{1} << 20;
  const auto header = decode_entry_header(bytes);
  const auto entry = decode_entry(bytes, {.max_value_size = limit});
  if (!entry) return 0;
  if (!header || entry->value.size() != header->original_size) std::abort();

  for (const Compression c : {Compression::none, Compression::zstd, Compression::lz4}) {
    const auto again = encode_entry(*entry, {.compression = c,
                                             .compression_threshold = 0,
                                             .level = 1,
                                             .checksum = header->has_checksum,
                                             .max_value_size = limit});
    if (!again) std::abort();
    const auto back = decode_entry(*again, {.max_value_size = limit});
    if (!back || !(*back == *entry)) std::abort();
  }
  const bool reserved_zero = bytes[9] == 0 && bytes[14] == 0 && bytes[15] == 0;
  if (header->compression == Compression::none && bytes[4] == entry_fixed_header_size &&
      reserved_zero) {
    const auto same = encode_entry(*entry, {.compression = Compression::none,
                                            .checksum = header->has_checksum,
                                            .max_value_size = limit});
    if (!same || *same != bytes) std::abort();
  }
  return 0;
}
