// Fuzz target: the daemon's TOML configuration reader (src/server/config.cpp). Any input must
// either load or throw ConfigError naming what is wrong; nothing else may escape, crash or hang.

#include "server/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = tiercache::server::load_config(text, "fuzz.toml");
    // What loads is valid: every namespace is found by its own name.
    for (const auto& ns : config.namespaces) {
      if (!config.find_namespace(ns.name)) std::abort();
    }
  } catch (const tiercache::server::ConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  return 0;
}
