#pragma once
// Bytes inside JSON documents: a value goes out as a JSON string when it is valid UTF-8, else
// base64 (RFC 4648, with padding) under another member name; base64 comes back the same way.
// The daemon's REST and MCP bodies and the CLI's --json output share these rules.
// Use: if (!is_valid_utf8(bytes)) doc["value_base64"] = base64_encode(bytes);
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace tiercache {

bool is_valid_utf8(std::string_view s) noexcept;
std::string base64_encode(std::string_view bytes);
// nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tiercache
