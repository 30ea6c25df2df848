#pragma once
// Durations and byte sizes as people write them in config files, query strings and headers:
// "500ms", "90s", "10m", "1h30m", "7d" (or a bare integer of seconds); "512", "64KiB", "16MiB".
// Use: if (auto d = parse_duration("10m")) options.ttl = *d;
// Thread-safety: pure functions.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tiercache::server {

// Durations from 0 up to 10 years; nullopt for anything else (negative, junk, overflow).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// Bytes from 0 up to 1 TiB; suffixes B, KiB, MiB, GiB (also K, M, G, KB, MB, GB as powers of 2).
std::optional<std::size_t> parse_size(std::string_view text);
// "1h30m", "250ms", "0s": the shortest form parse_duration reads back.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace tiercache::server
