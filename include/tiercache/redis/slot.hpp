#pragma once
// Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384, as
// Redis computes it (cluster spec, "Keys distribution model"). Keys that share a tag ("{user1}a",
// "{user1}b") share a slot, so they can meet in one MULTI, script or MGET.
// Use: std::uint16_t s = redis::key_slot("{user1}:cart");
// Thread-safety: pure functions.

#include <cstdint>
#include <string_view>

namespace tiercache::redis {

inline constexpr std::uint16_t kSlotCount = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0): crc16("123456789") == 0x31C3.
std::uint16_t crc16(std::string_view bytes) noexcept;

// The part of a key that is hashed: between the first '{' and the first '}' after it, if that
// is not empty; else the whole key ("{}a" and "a{" hash whole).
std::string_view hash_tag(std::string_view key) noexcept;

// crc16(hash_tag(key)) % 16384.
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace tiercache::redis
