#pragma once
// The rate limiters' Lua scripts: one per Algorithm, compiled into the library. The .lua files
// beside this header are the only copy (each opens with its essay); the build embeds them
// (embed_scripts.cmake), and tests/ratelimit/scripts_test.cpp checks the embedded text against
// the files byte for byte.
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
