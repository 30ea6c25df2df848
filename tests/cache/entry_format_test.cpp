#include "tiercache/cache/entry_format.hpp"

#include "tiercache/cache/error.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <chrono>
#include <random>
#include <string>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;
using Tp = Entry::time_point;

Tp at_ms(std::int64_t ms) { return Tp(std::chrono::milliseconds(ms)); }

Entry sample(std::string value) {
  return Entry{.value = std::move(value),
               .created = at_ms(1'748'736'000'123),
               .fresh_until = at_ms(1'748'736'600'123),
               .stale_until = at_ms(1'748'737'200'123),
               .tags = {"route:JFK-LAX", "airline:DL"},
               .dependencies = {"airports:JFK"},
               .priority = Priority::high,
               .codec = Codec::json};
}

std::string compressible(std::size_t n) {
  std::string s;
  while (s.size() < n) s += R"({"offer":"DL123","price":412.50,"cabin":"economy"},)";
  s.resize(n);
  return s;
}

std::string random_bytes(std::size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::uint64_t u64_at(const std::string& s, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i)
    v |= std::uint64_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

class EntryFormatCompressionTest : public testing::TestWithParam<Compression> {};

TEST_P(EntryFormatCompressionTest, RoundTripsEveryField) {
  for (const std::size_t size : {0UL, 1UL, 100UL, 5000UL, 200'000UL}) {
    const Entry entry = sample(compressible(size));
    auto bytes = encode_entry(entry, {.compression = GetParam(), .compression_threshold = 64});
    ASSERT_TRUE(bytes) << size;
    auto back = decode_entry(*bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, entry);
    const bool compressed = GetParam() != Compression::none && size >= 100;
    EXPECT_EQ(decode_entry_header(*bytes)->compression,
              compressed ? GetParam() : Compression::none);
    if (compressed && size >= 5000) {
      EXPECT_LT(bytes->size(), size / 4) << "compression " << static_cast<int>(GetParam());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, EntryFormatCompressionTest,
                         testing::Values(Compression::none, Compression::zstd, Compression::lz4));

TEST(EntryFormatTest, LaysOutTheHeaderAsDocumented) {
  const Entry entry = sample("hello");
  const std::string bytes = *encode_entry(entry, {.checksum = true});
  ASSERT_EQ(bytes.size(), 56 + (2 + 13) + (2 + 10) + (2 + 12) + 5);
  EXPECT_EQ(bytes.substr(0, 3), "\x89TC");
  EXPECT_EQ(bytes[3], 1);                            // format version
  EXPECT_EQ(bytes[4], 56);                           // fixed header length
  EXPECT_EQ(bytes[5], 1);                            // codec: JSON
  EXPECT_EQ(bytes[6], 0);                            // compression: none
  EXPECT_EQ(bytes[7], 1);                            // flags: checksum
  EXPECT_EQ(bytes[8], 2);                            // priority: high
  EXPECT_EQ(bytes[10], 2);                           // tag count (u16 LE)
  EXPECT_EQ(bytes[12], 1);                           // dependency count
  EXPECT_EQ(u64_at(bytes, 16), 1'748'736'000'123U);  // created, ms
  EXPECT_EQ(u64_at(bytes, 24), 1'748'736'600'123U);  // fresh_until
  EXPECT_EQ(u64_at(bytes, 32), 1'748'737'200'123U);  // stale_until
  EXPECT_EQ(bytes[40], 5);                           // stored length
  EXPECT_EQ(bytes[44], 5);                           // original length
  EXPECT_EQ(bytes.substr(56, 15), std::string("\x0d\x00route:JFK-LAX", 15));
  EXPECT_EQ(bytes.substr(bytes.size() - 5), "hello");
  std::string zeroed = bytes;
  zeroed.replace(48, 8, 8, '\0');
  EXPECT_EQ(u64_at(bytes, 48), XXH3_64bits(zeroed.data(), zeroed.size()));
}

TEST(EntryFormatTest, KeepsSmallValuesUncompressed) {
  const std::string bytes = *encode_entry(sample(compressible(1023)), {});
  EXPECT_EQ(decode_entry_header(bytes)->compression, Compression::none);
  const std::string big = *encode_entry(sample(compressible(1024)), {});
  EXPECT_EQ(decode_entry_header(big)->compression, Compression::zstd);
}

TEST(EntryFormatTest, StoresIncompressibleValuesAsIs) {
  for (const Compression c : {Compression::zstd, Compression::lz4}) {
    const Entry entry = sample(random_bytes(4096));
    const std::string bytes = *encode_entry(entry, {.compression = c});
    EXPECT_EQ(decode_entry_header(bytes)->compression, Compression::none);
    EXPECT_EQ(*decode_entry(bytes), entry);
  }
}

TEST(EntryFormatTest, TellsPlainStringsApartFromEntries) {
  for (const std::string foreign : {"", "hello", "{\"a\":1}", "12345", "\xef\xbb\xbftext", "OK"}) {
    const auto r = decode_entry(foreign);
    ASSERT_FALSE(r) << foreign;
    EXPECT_EQ(r.error(), Errc::not_an_entry) << foreign;
  }
}

TEST(EntryFormatTest, RejectsEveryTruncation) {
  const std::string bytes = *encode_entry(sample(compressible(3000)), {});
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    const auto r = decode_entry(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), Errc::corrupt_entry) << n;
  }
  EXPECT_EQ(decode_entry(bytes + "x").error(), Errc::corrupt_entry);
}

TEST(EntryFormatTest, DetectsAFlippedByteByChecksum) {
  const Entry entry = sample("the payload");
  std::string bytes = *encode_entry(entry, {});
  bytes[bytes.size() - 3] ^= 0x20;
  EXPECT_EQ(decode_entry(bytes).error(), Errc::corrupt_entry);
  auto unchecked = decode_entry(bytes, {.verify_checksum = false});
  ASSERT_TRUE(unchecked);
  EXPECT_EQ(unchecked->value, "the paylOad");
  std::string header_flip = *encode_entry(entry, {});
  header_flip[20] ^= 0x01;  // inside `created`
  EXPECT_EQ(decode_entry(header_flip).error(), Errc::corrupt_entry);
}

TEST(EntryFormatTest, RefusesWhatANewerWriterMayWrite) {
  const std::string good = *encode_entry(sample("x"), {.checksum = false});
  for (const auto& [offset, byte] : {std::pair{3, 2}, {3, 200}, {6, 3}, {7, 0x02}, {7, 0x80}}) {
    std::string bytes = good;
    bytes[static_cast<std::size_t>(offset)] = static_cast<char>(byte);
    EXPECT_EQ(decode_entry(bytes).error(), Errc::unsupported_format_version) << offset;
  }
}

TEST(EntryFormatTest, RejectsImpossibleFields) {
  const std::string good = *encode_entry(sample("x"), {.checksum = false});
  const auto with = [&](std::size_t offset, char byte) {
    std::string b = good;
    b[offset] = byte;
    return decode_entry(b);
  };
  EXPECT_EQ(with(3, 0).error(), Errc::corrupt_entry);      // version 0
  EXPECT_EQ(with(4, 40).error(), Errc::corrupt_entry);     // fixed part shorter than v1's
  EXPECT_EQ(with(8, 3).error(), Errc::corrupt_entry);      // priority
  EXPECT_EQ(with(31, 0x7f).error(), Errc::corrupt_entry);  // fresh_until after stale_until
  EXPECT_EQ(with(50, 1).error(), Errc::corrupt_entry);     // a checksum without the flag
  EXPECT_EQ(with(44, 9).error(), Errc::corrupt_entry);     // original != stored, uncompressed
  EXPECT_EQ(with(10, 9).error(), Errc::corrupt_entry);     // more tags than bytes
}

TEST(EntryFormatTest, PassesUnknownCodecsThrough) {
  std::string bytes = *encode_entry(sample("x"), {.checksum = false});
  bytes[5] = 77;
  EXPECT_EQ(static_cast<int>(decode_entry(bytes)->codec), 77);
}

// Without the checksum a damaged frame may still decompress (to garbage of the right size): the
// reason the checksum is on by default. What the decompressors do catch is reported as such.
TEST(EntryFormatTest, ReportsPayloadsThatDoNotDecompress) {
  for (const Compression c : {Compression::zstd, Compression::lz4}) {
    const std::string good =
        *encode_entry(sample(compressible(8000)), {.compression = c, .checksum = false});
    const std::size_t stored = decode_entry_header(good)->stored_size;
    std::string truncated = good.substr(0, good.size() - 10);
    truncated[40] = static_cast<char>((stored - 10) & 0xff);
    truncated[41] = static_cast<char>((stored - 10) >> 8);
    EXPECT_EQ(decode_entry(truncated).error(), Errc::decompression_failed);
    std::string lying = good;
    lying[44] = static_cast<char>(lying[44] + 1);  // original length off by one
    EXPECT_EQ(decode_entry(lying).error(), Errc::decompression_failed);
  }
}

TEST(EntryFormatTest, BoundsValueSizesOnWriteAndRead) {
  EXPECT_EQ(encode_entry(sample(std::string(101, 'a')), {.max_value_size = 100}).error(),
            Errc::value_too_large);
  EXPECT_TRUE(encode_entry(sample(std::string(100, 'a')), {.max_value_size = 100}));
  // A zstd bomb: 8 MiB of zeros in a few hundred bytes; the reader refuses before allocating.
  for (const Compression c : {Compression::zstd, Compression::lz4}) {
    const std::string bomb = *encode_entry(sample(std::string(8 << 20, '\0')), {.compression = c});
    EXPECT_LT(bomb.size(), 64U << 10);
    EXPECT_EQ(decode_entry(bomb, {.max_value_size = 1 << 20}).error(), Errc::value_too_large);
    EXPECT_EQ(decode_entry(bomb)->value.size(), 8U << 20);
  }
}

TEST(EntryFormatTest, RefusesEntriesItCannotLayOut) {
  Entry e = sample("x");
  e.fresh_until = e.stale_until + 1ms;
  EXPECT_EQ(encode_entry(e).error(), Errc::invalid_argument);
  e = sample("x");
  e.stale_until = at_ms(8'000'000'000'000);  // year 2223
  EXPECT_EQ(encode_entry(e).error(), Errc::invalid_argument);
  e = sample("x");
  e.tags.assign(65536, "t");
  EXPECT_EQ(encode_entry(e).error(), Errc::invalid_argument);
  e = sample("x");
  e.dependencies = {std::string(65536, 'd')};
  EXPECT_EQ(encode_entry(e).error(), Errc::invalid_argument);
  e.dependencies = {std::string(65535, 'd')};
  EXPECT_EQ(decode_entry(*encode_entry(e))->dependencies, e.dependencies);
  EXPECT_EQ(encode_entry(sample("x"), {.compression = static_cast<Compression>(9)}).error(),
            Errc::invalid_argument);
}

TEST(EntryFormatTest, RoundsTimesDownToMilliseconds) {
  Entry e = sample("x");
  e.created += 999us;
  EXPECT_EQ(decode_entry(*encode_entry(e))->created, sample("x").created);
}

TEST(EntryFormatTest, ReadsTheHeaderWithoutThePayload) {
  const std::string bytes = *encode_entry(sample(compressible(5000)), {});
  const auto h = decode_entry_header(bytes);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->tags, sample("").tags);
  EXPECT_EQ(h->fresh_until, sample("").fresh_until);
  EXPECT_EQ(h->original_size, 5000U);
  EXPECT_EQ(h->payload_offset + h->stored_size, bytes.size());
  EXPECT_TRUE(h->has_checksum);
}

TEST(EntryFormatTest, EveryErrorHasAMessage) {
  EXPECT_STREQ(make_error_code(Errc::corrupt_entry).category().name(), "tiercache.cache");
  for (int v = static_cast<int>(Errc::corrupt_entry); v <= static_cast<int>(Errc::invalid_config);
       ++v) {
    const std::string m = make_error_code(static_cast<Errc>(v)).message();
    EXPECT_EQ(m.find("unknown error"), std::string::npos) << v;
    EXPECT_GT(m.size(), 30U) << v;
  }
}

}  // namespace
}  // namespace tiercache::cache
