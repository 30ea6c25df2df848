#pragma once
// The rate limiters' Lua scripts: one per Algorithm, compiled into the library. The .lua files
// beside this header are the source of truth (each opens with its essay); scripts.cpp holds the
// same text as raw string literals, and tests/ratelimit/scripts_test.cpp fails if the two
// differ by one byte. Edit the .lua file, then paste it into scripts.cpp.
// Thread-safety: immutable after first use (function-local statics).

#include "tiercache/ratelimit/policy.hpp"
#include "tiercache/redis/script.hpp"

#include <string_view>

namespace tiercache::ratelimit {

// The script that decides for `algorithm`.
const redis::Script& script_for(Algorithm algorithm);

// The file, under src/ratelimit/, that script_for(algorithm)'s text comes from.
std::string_view lua_file_name(Algorithm algorithm) noexcept;

}  // namespace tiercache::ratelimit
