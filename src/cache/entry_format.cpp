// The L2 entry format.
//
// One cache entry is one Redis string: a header, then the payload. The header carries what a
// reader needs to decide, without decompressing, whether the entry may be served (its times), what
// invalidates it (tags, dependencies), how L1 ranks it (priority) and how to read the payload
// (codec, compression). The Redis TTL is set to stale_until by the writer, so Redis drops the
// string when it can no longer be served even as stale.
//
// Layout (version 1). All integers little-endian, fixed width; times are signed milliseconds
// since the Unix epoch (wall clock, so that instances on different machines agree):
//
//   byte  0      1      2      3      4      5      6      7
//        +------+------+------+------+------+------+------+------+
//      0 | 0x89 | 'T'  | 'C'  | ver  | fix  |codec | comp |flags |   ver = 1, fix = 56
//        +------+------+------+------+------+------+------+------+
//      8 | prio |  0   |   ntags     |   ndeps     |      0      |   counts are u16
//        +------+------+------+------+------+------+------+------+
//     16 |                   created (i64 ms)                    |
//     24 |                 fresh_until (i64 ms)                  |
//     32 |                 stale_until (i64 ms)                  |
//        +---------------------------+---------------------------+
//     40 |   stored length (u32)     |  original length (u32)    |
//        +---------------------------+---------------------------+
//     48 |          checksum (u64, XXH3-64; 0 when flag clear)   |
//        +-------------------------------------------------------+
//    fix | ntags x [u16 length][bytes], then ndeps x [u16 length][bytes]
//        +-------------------------------------------------------+
//        | payload: `stored length` bytes, to the end of the string
//        +-------------------------------------------------------+
//
// Choices, and why:
// - Magic 0x89 'T' 'C'. 0x89 is a UTF-8 continuation byte, so no text (ASCII or UTF-8, JSON, a
//   number written by INCR, a string SET from redis-cli) can start with it: a foreign value is
//   told apart by its first byte and reported as Errc::not_an_entry, never read as garbage. The
//   trick is PNG's.
// - Fixed-width fields, not varints: a reader in any language is a dozen lines of struct
//   unpacking (Python: struct.unpack_from("<3sBBBBBBBHHHqqqIIQ", b)). The price is ~20 bytes a
//   varint header would save, next to Redis's own ~50 bytes of per-key overhead.
// - `fix` (byte 4) is the length of the fixed part. A later minor revision may append fields
//   before the tags and raise it; readers skip what they do not know. A change readers must
//   understand bumps `ver` or sets a flag bit; readers refuse unknown versions, compressions and
//   flag bits with Errc::unsupported_format_version. Reserved bytes are written 0 and ignored.
// - Flags: bit 0 = a checksum is present. Priority: 0 low, 1 normal, 2 high. Codec: 0 raw,
//   1 JSON, 2 MessagePack; unknown codec ids pass through (the cache stores bytes; typed helpers
//   check). Compression: 0 none, 1 zstd (one frame with its content size), 2 lz4 (one raw LZ4
//   block; the original length tells the decompressor its output bound).
// - The checksum is XXH3-64 (seed 0) of the whole string with its own 8 bytes read as zero, so
//   it covers header and payload. Redis does not corrupt bytes; the checksum catches the writers
//   that do: a service in another language with a wrong layout, a truncated SETRANGE/APPEND, a
//   bug. Without it a damaged compressed payload may decompress to garbage of the right size.
//   Cost: ~0.05-0.08 ns per byte, ~55 ns for 1 KiB (bench/cache/entry_bench), against tens of
//   microseconds for the round trip that fetched the bytes. It is checked before decompressing,
//   so a damaged frame never reaches zstd or lz4.
// - Bounds: the lengths must add up exactly (header + stored len == string length); the original
//   length is checked against DecodeOptions::max_value_size before any allocation, and zstd's own
//   frame content size must equal it; lz4 decompresses into exactly that many bytes, so neither
//   can be made to allocate or write more than the limit.
// - A payload that compression does not shrink is stored as is (compression 0): small JSON often
//   grows under zstd's 9-byte frame header.
// - Times: whole milliseconds in [1970, 2200). The range keeps the conversion to
//   std::chrono::system_clock (nanoseconds in 64 bits, good to 2262) free of overflow.

#include "tiercache/cache/entry_format.hpp"

#include "tiercache/cache/error.hpp"

#include <lz4.h>
// XXH3 compiled into this file (xxhash.h is the whole implementation), so the checksum of an
// entry is inlined and vectorised here instead of called in Debian's libxxhash (~900
// instructions per 1 KB read, cache_bench). Also gives XXH3_state_t on the stack.
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>

namespace tiercache::cache {
namespace {

constexpr std::array<unsigned char, 3> magic = {0x89, 'T', 'C'};
constexpr std::size_t checksum_offset = 48;
constexpr std::uint8_t flag_checksum = 0x01;
constexpr std::uint8_t known_flags = flag_checksum;
// 2200-01-01T00:00:00Z in milliseconds.
constexpr std::int64_t max_time_ms = 7'258'118'400'000;
constexpr std::size_t max_list_items = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t max_string_size = std::numeric_limits<std::uint16_t>::max();

void put_u16(char* out, std::uint16_t v) {
  out[0] = static_cast<char>(v & 0xff);
  out[1] = static_cast<char>(v >> 8);
}

template <class U>
void put_le(char* out, U v) {
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    out[i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * i)));
  }
}

template <class U>
U get_le(const char* in) {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    v = static_cast<U>(
        v | static_cast<U>(static_cast<U>(static_cast<unsigned char>(in[i])) << (8 * i)));
  }
  return v;
}

// XXH3-64 of `bytes` with its checksum field read as zero. A small entry is hashed in one call
// over a copy with the field zeroed: XXH3's streaming state costs more than the copy (~1,300
// instructions per 1 KB entry against ~100 for the copy; callgrind, cache_bench). The result is
// the same either way: both hash the same byte string.
std::uint64_t checksum_of(std::string_view bytes) {
  constexpr std::size_t kCopyUpTo = 4096;
  if (bytes.size() <= kCopyUpTo) {
    char copy[kCopyUpTo];
    std::memcpy(copy, bytes.data(), bytes.size());
    std::memset(copy + checksum_offset, 0, 8);
    return XXH3_64bits(copy, bytes.size());
  }
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  static constexpr char zeros[8] = {};
  XXH3_64bits_update(&state, bytes.data(), checksum_offset);
  XXH3_64bits_update(&state, zeros, sizeof zeros);
  XXH3_64bits_update(&state, bytes.data() + checksum_offset + 8,
                     bytes.size() - checksum_offset - 8);
  return XXH3_64bits_digest(&state);
}

Result<std::int64_t> to_ms(Entry::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  if (ms < 0 || ms >= max_time_ms) return Errc::invalid_argument;
  return static_cast<std::int64_t>(ms);
}

Entry::time_point from_ms(std::int64_t ms) {
  return Entry::time_point(
      std::chrono::duration_cast<Entry::time_point::duration>(std::chrono::milliseconds(ms)));
}

// One zstd context of each kind per thread, reused: making one per call costs more than the
// work on a 1 KiB value (cache_bench: a decode took ~24 us with ZSTD_decompress, ~7.5 us with a
// reused context). Null only if the allocation failed; callers then use the one-shot functions.
ZSTD_CCtx* zstd_cctx() {
  thread_local const std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> ctx(ZSTD_createCCtx(),
                                                                              &ZSTD_freeCCtx);
  return ctx.get();
}

ZSTD_DCtx* zstd_dctx() {
  thread_local const std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(),
                                                                              &ZSTD_freeDCtx);
  return ctx.get();
}

// This thread's LZ4 state, reset for a new independent block. LZ4_compress_default initializes a
// 16 KB state on the stack each call, which cost more than compressing a 1 KB value; a reset
// with LZ4_resetStream_fast clears only what the next block needs. The first block after a reset
// refers to no earlier data, so LZ4_decompress_safe reads it as it reads any block.
LZ4_stream_t* lz4_stream() {
  thread_local LZ4_stream_t stream;
  thread_local const bool initialized = LZ4_initStream(&stream, sizeof stream) != nullptr;
  (void)initialized;
  LZ4_resetStream_fast(&stream);
  return &stream;
}

// Compresses `in` to `out` (capacity `cap`); returns the size, or 0 when it did not shrink.
std::size_t compress(Compression algo, int level, std::string_view in, char* out, std::size_t cap) {
  if (algo == Compression::zstd) {
    ZSTD_CCtx* ctx = zstd_cctx();
    const std::size_t n = ctx != nullptr
                              ? ZSTD_compressCCtx(ctx, out, cap, in.data(), in.size(), level)
                              : ZSTD_compress(out, cap, in.data(), in.size(), level);
    return ZSTD_isError(n) || n >= in.size() ? 0 : n;
  }
  const int n = LZ4_compress_fast_continue(lz4_stream(), in.data(), out,
                                           static_cast<int>(in.size()), static_cast<int>(cap), 1);
  return n <= 0 || static_cast<std::size_t>(n) >= in.size() ? 0 : static_cast<std::size_t>(n);
}

std::size_t compress_bound(Compression algo, std::size_t n) {
  if (algo == Compression::zstd) return ZSTD_compressBound(n);
  return static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(n)));
}

// Reads a list of u16-length-prefixed strings at `pos`, advancing it.
bool read_strings(std::string_view bytes, std::size_t& pos, std::size_t count,
                  std::vector<std::string>& out) {
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (bytes.size() - pos < 2) return false;
    const std::size_t len = get_le<std::uint16_t>(bytes.data() + pos);
    pos += 2;
    if (bytes.size() - pos < len) return false;
    out.emplace_back(bytes.substr(pos, len));
    pos += len;
  }
  return true;
}

}  // namespace

Result<std::string> encode_entry(const Entry& entry, const EncodeOptions& options) {
  if (options.compression > Compression::lz4) return Errc::invalid_argument;
  const std::string_view value = entry.value;
  if (value.size() > options.max_value_size || value.size() > 0xffff'ffffU) {
    return Errc::value_too_large;
  }
  if (entry.tags.size() > max_list_items || entry.dependencies.size() > max_list_items) {
    return Errc::invalid_argument;
  }
  const auto created = to_ms(entry.created);
  const auto fresh = to_ms(entry.fresh_until);
  const auto stale = to_ms(entry.stale_until);
  if (!created || !fresh || !stale || *fresh > *stale) return Errc::invalid_argument;

  std::size_t header_size = entry_fixed_header_size;
  for (const auto* list : {&entry.tags, &entry.dependencies}) {
    for (const std::string& s : *list) {
      if (s.size() > max_string_size) return Errc::invalid_argument;
      header_size += 2 + s.size();
    }
  }

  Compression algo = options.compression;
  if (value.size() < options.compression_threshold ||
      (algo == Compression::lz4 && value.size() > LZ4_MAX_INPUT_SIZE)) {
    algo = Compression::none;
  }
  std::string out;
  std::size_t stored = value.size();
  if (algo != Compression::none) {
    out.resize(header_size + compress_bound(algo, value.size()));
    stored =
        compress(algo, options.level, value, out.data() + header_size, out.size() - header_size);
    if (stored == 0) {
      algo = Compression::none;
      stored = value.size();
    }
  }
  out.resize(header_size + stored);
  if (algo == Compression::none) std::memcpy(out.data() + header_size, value.data(), stored);

  char* h = out.data();
  std::memset(h, 0, entry_fixed_header_size);
  for (std::size_t i = 0; i < magic.size(); ++i) h[i] = static_cast<char>(magic[i]);
  h[3] = static_cast<char>(entry_format_version);
  h[4] = static_cast<char>(entry_fixed_header_size);
  h[5] = static_cast<char>(entry.codec);
  h[6] = static_cast<char>(algo);
  h[7] = static_cast<char>(options.checksum ? flag_checksum : 0);
  h[8] = static_cast<char>(entry.priority);
  put_u16(h + 10, static_cast<std::uint16_t>(entry.tags.size()));
  put_u16(h + 12, static_cast<std::uint16_t>(entry.dependencies.size()));
  put_le(h + 16, static_cast<std::uint64_t>(*created));
  put_le(h + 24, static_cast<std::uint64_t>(*fresh));
  put_le(h + 32, static_cast<std::uint64_t>(*stale));
  put_le(h + 40, static_cast<std::uint32_t>(stored));
  put_le(h + 44, static_cast<std::uint32_t>(value.size()));
  std::size_t pos = entry_fixed_header_size;
  for (const auto* list : {&entry.tags, &entry.dependencies}) {
    for (const std::string& s : *list) {
      put_u16(h + pos, static_cast<std::uint16_t>(s.size()));
      s.copy(h + pos + 2, s.size());
      pos += 2 + s.size();
    }
  }
  if (options.checksum) put_le(h + checksum_offset, checksum_of(out));
  return out;
}

Result<EntryHeader> decode_entry_header(std::string_view bytes) {
  const std::size_t prefix = std::min(bytes.size(), magic.size());
  if (prefix == 0 || std::memcmp(bytes.data(), magic.data(), prefix) != 0) {
    return Errc::not_an_entry;
  }
  if (bytes.size() < 4) return Errc::corrupt_entry;
  if (static_cast<std::uint8_t>(bytes[3]) != entry_format_version) {
    return bytes[3] == 0 ? Errc::corrupt_entry : Errc::unsupported_format_version;
  }
  if (bytes.size() < entry_fixed_header_size) return Errc::corrupt_entry;
  const char* h = bytes.data();
  const auto fixed = static_cast<std::uint8_t>(h[4]);
  const auto compression = static_cast<std::uint8_t>(h[6]);
  const auto flags = static_cast<std::uint8_t>(h[7]);
  const auto priority = static_cast<std::uint8_t>(h[8]);
  if (fixed < entry_fixed_header_size || fixed > bytes.size()) return Errc::corrupt_entry;
  if (compression > static_cast<std::uint8_t>(Compression::lz4) || (flags & ~known_flags) != 0) {
    return Errc::unsupported_format_version;
  }
  if (priority > static_cast<std::uint8_t>(Priority::high)) return Errc::corrupt_entry;

  EntryHeader out;
  out.codec = static_cast<Codec>(static_cast<std::uint8_t>(h[5]));
  out.compression = static_cast<Compression>(compression);
  out.has_checksum = (flags & flag_checksum) != 0;
  out.priority = static_cast<Priority>(priority);
  const auto created = static_cast<std::int64_t>(get_le<std::uint64_t>(h + 16));
  const auto fresh = static_cast<std::int64_t>(get_le<std::uint64_t>(h + 24));
  const auto stale = static_cast<std::int64_t>(get_le<std::uint64_t>(h + 32));
  for (const std::int64_t t : {created, fresh, stale}) {
    if (t < 0 || t >= max_time_ms) return Errc::corrupt_entry;
  }
  if (fresh > stale) return Errc::corrupt_entry;
  out.created = from_ms(created);
  out.fresh_until = from_ms(fresh);
  out.stale_until = from_ms(stale);
  out.stored_size = get_le<std::uint32_t>(h + 40);
  out.original_size = get_le<std::uint32_t>(h + 44);
  if (!out.has_checksum && get_le<std::uint64_t>(h + checksum_offset) != 0) {
    return Errc::corrupt_entry;
  }

  std::size_t pos = fixed;
  if (!read_strings(bytes, pos, get_le<std::uint16_t>(h + 10), out.tags) ||
      !read_strings(bytes, pos, get_le<std::uint16_t>(h + 12), out.dependencies)) {
    return Errc::corrupt_entry;
  }
  if (bytes.size() - pos != out.stored_size) return Errc::corrupt_entry;
  if (out.compression == Compression::none && out.original_size != out.stored_size) {
    return Errc::corrupt_entry;
  }
  out.payload_offset = pos;
  return out;
}

std::uint64_t entry_version(std::string_view bytes) noexcept {
  const bool has_checksum = bytes.size() >= entry_fixed_header_size &&
                            (static_cast<std::uint8_t>(bytes[7]) & flag_checksum) != 0;
  if (has_checksum) return get_le<std::uint64_t>(bytes.data() + checksum_offset);
  return XXH3_64bits(bytes.data(), bytes.size());
}

namespace {

// decode_entry's work, into `entry` (whose fields it sets); an error leaves it partly set.
error_code decode_into(std::string_view bytes, const DecodeOptions& options, Entry& entry) {
  auto header = decode_entry_header(bytes);
  if (!header) return header.error();
  EntryHeader& h = *header;
  if (h.original_size > options.max_value_size) return Errc::value_too_large;
  if (h.has_checksum && options.verify_checksum &&
      get_le<std::uint64_t>(bytes.data() + checksum_offset) != checksum_of(bytes)) {
    return Errc::corrupt_entry;
  }
  const std::string_view stored = bytes.substr(h.payload_offset, h.stored_size);

  entry.created = h.created;
  entry.fresh_until = h.fresh_until;
  entry.stale_until = h.stale_until;
  entry.tags = std::move(h.tags);
  entry.dependencies = std::move(h.dependencies);
  entry.priority = h.priority;
  entry.codec = h.codec;
  entry.version = entry_version(bytes);
  switch (h.compression) {
    case Compression::none:
      entry.value.assign(stored);
      break;
    case Compression::zstd: {
      const unsigned long long content = ZSTD_getFrameContentSize(stored.data(), stored.size());
      if (content != h.original_size) return Errc::decompression_failed;
      entry.value.resize(h.original_size);
      ZSTD_DCtx* ctx = zstd_dctx();
      const std::size_t n = ctx != nullptr
                                ? ZSTD_decompressDCtx(ctx, entry.value.data(), entry.value.size(),
                                                      stored.data(), stored.size())
                                : ZSTD_decompress(entry.value.data(), entry.value.size(),
                                                  stored.data(), stored.size());
      if (ZSTD_isError(n) || n != h.original_size) return Errc::decompression_failed;
      break;
    }
    case Compression::lz4: {
      if (h.original_size > LZ4_MAX_INPUT_SIZE || h.stored_size > LZ4_MAX_INPUT_SIZE) {
        return Errc::decompression_failed;
      }
      entry.value.resize(h.original_size);
      const int n =
          LZ4_decompress_safe(stored.data(), entry.value.data(), static_cast<int>(stored.size()),
                              static_cast<int>(entry.value.size()));
      if (n < 0 || static_cast<std::size_t>(n) != h.original_size) {
        return Errc::decompression_failed;
      }
      break;
    }
  }
  return {};
}

}  // namespace

Result<Entry> decode_entry(std::string_view bytes, const DecodeOptions& options) {
  Entry entry;
  if (const error_code ec = decode_into(bytes, options, entry)) return ec;
  return entry;
}

Result<std::shared_ptr<const Entry>> decode_shared_entry(std::string_view bytes,
                                                         const DecodeOptions& options) {
  auto entry = std::make_shared<Entry>();
  if (const error_code ec = decode_into(bytes, options, *entry)) return ec;
  return std::shared_ptr<const Entry>(std::move(entry));
}

}  // namespace tiercache::cache
