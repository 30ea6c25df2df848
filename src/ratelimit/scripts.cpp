// The Lua sources of src/ratelimit/*.lua, embedded at build time (src/ratelimit/
// embed_scripts.cmake writes generated/ratelimit/lua_sources.hpp), so the library needs no file
// at run time and the .lua files are the only copy.
#include "scripts.hpp"

#include "ratelimit/lua_sources.hpp"

#include <string>

namespace tiercache::ratelimit {

const redis::Script& script_for(Algorithm algorithm) {
  static const redis::Script sliding_log{std::string(lua::kSlidingLog)};
  static const redis::Script sliding_window{std::string(lua::kSlidingWindow)};
  static const redis::Script token_bucket{std::string(lua::kTokenBucket)};
  switch (algorithm) {
    case Algorithm::sliding_log:
      return sliding_log;
    case Algorithm::sliding_window:
      return sliding_window;
    case Algorithm::token_bucket:
      return token_bucket;
  }
  return sliding_log;
}

std::string_view lua_file_name(Algorithm algorithm) noexcept {
  switch (algorithm) {
    case Algorithm::sliding_log:
      return "sliding_log.lua";
    case Algorithm::sliding_window:
      return "sliding_window.lua";
    case Algorithm::token_bucket:
      return "token_bucket.lua";
  }
  return "";
}

}  // namespace tiercache::ratelimit
