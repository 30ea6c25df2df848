#pragma once
// The L2 entry format: how one cache::Entry is laid out in one Redis string, a small versioned
// binary header followed by the (possibly compressed) payload. docs/entry-format.md draws it for
// readers in other languages; src/cache/entry_format.cpp says why it is shaped so.
// Use: auto bytes = encode_entry(entry, {.compression = Compression::zstd});
//      auto back = decode_entry(bytes_from_redis);  // Errc::not_an_entry for a plain string
// Thread-safety: pure functions; safe from any thread.

#include "tiercache/base/result.hpp"
#include "tiercache/cache/entry.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::cache {

// The only format version this code writes and reads.
inline constexpr std::uint8_t entry_format_version = 1;
// Bytes of the fixed part of a version 1 header (tags and dependencies follow it).
inline constexpr std::size_t entry_fixed_header_size = 56;

// How the payload is stored. Ids are stable: they are bytes in Redis.
enum class Compression : std::uint8_t { none = 0, zstd = 1, lz4 = 2 };

struct EncodeOptions {
  // The algorithm for payloads at or above compression_threshold. A payload that does not shrink
  // is stored as is. Default: zstd (better ratio; lz4 compresses ~3x faster, decompresses ~2x).
  Compression compression = Compression::zstd;
  // Payloads shorter than this many bytes are never compressed. Default: 1 KiB. Lowering it costs
  // CPU on small values that rarely shrink past the frame overhead.
  std::size_t compression_threshold = 1024;
  // zstd level (1..19; negative levels are faster still). lz4 ignores it. Default: 3. Each step up
  // costs write CPU for a few percent of ratio; reads are as fast at any level.
  int level = 3;
  // Store an XXH3-64 of the whole entry, checked on read. Default: on. It costs ~0.05-0.08 ns
  // per byte: ~55 ns of the ~130 ns a 1 KiB entry takes to decode, 11 us of a 256 KiB one's
  // 16 us (bench/cache/entry_bench), against tens of us for the Redis round trip.
  bool checksum = true;
  // Larger payloads (before compression) are refused with Errc::value_too_large. Default: 16 MiB;
  // Redis's own bound is 512 MiB.
  std::size_t max_value_size = std::size_t{16} << 20;
};

struct DecodeOptions {
  // A payload that is, or says it decompresses to, more than this is refused with
  // Errc::value_too_large before any allocation. Default: 16 MiB.
  std::size_t max_value_size = std::size_t{16} << 20;
  // Verify the stored checksum when there is one. Default: on.
  bool verify_checksum = true;
};

// Everything an entry's header says, read without touching the payload: enough to decide
// freshness and check tags before paying for decompression.
struct EntryHeader {
  Entry::time_point created{};
  Entry::time_point fresh_until{};
  Entry::time_point stale_until{};
  std::vector<std::string> tags;
  std::vector<std::string> dependencies;
  Priority priority = Priority::normal;
  Codec codec = Codec::raw;
  Compression compression = Compression::none;
  bool has_checksum = false;
  // Where the payload starts, its stored length and its length once decompressed.
  std::size_t payload_offset = 0;
  std::size_t stored_size = 0;
  std::size_t original_size = 0;
};

// Lays out `entry` as one Redis string. Times are stored in whole milliseconds (rounded down).
// Fails with value_too_large (value over options.max_value_size) or invalid_argument (more than
// 65535 tags or dependencies, one longer than 65535 bytes, fresh_until after stale_until, or a
// time outside 1970..2200).
[[nodiscard]] Result<std::string> encode_entry(const Entry& entry,
                                               const EncodeOptions& options = {});

// Reads the header of `bytes` and checks that the lengths add up; does not check the checksum nor
// decompress. Fails with not_an_entry, unsupported_format_version or corrupt_entry.
[[nodiscard]] Result<EntryHeader> decode_entry_header(std::string_view bytes);

// The version of an entry's bytes (Entry::version, the compare-and-set token): its checksum when
// it has one (free to read), else XXH3-64 of the whole string. Two writes of one key differ in
// version unless their bytes are equal, times included.
[[nodiscard]] std::uint64_t entry_version(std::string_view bytes) noexcept;

// Reads a whole entry, version included. Fails as decode_entry_header does, and with corrupt_entry
// (bad checksum), value_too_large or decompression_failed. Never reads outside `bytes`; never
// allocates more than options.max_value_size for the payload.
[[nodiscard]] Result<Entry> decode_entry(std::string_view bytes, const DecodeOptions& options = {});
// decode_entry straight into a shared Entry, as L1 and ReadResult hold it: one allocation for
// the entry and its count, no copy or move of it afterwards.
[[nodiscard]] Result<std::shared_ptr<const Entry>> decode_shared_entry(
    std::string_view bytes, const DecodeOptions& options = {});

}  // namespace tiercache::cache
