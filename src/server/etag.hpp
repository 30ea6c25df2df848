#pragma once
// ETags of cached entries and If-None-Match matching (RFC 9110 13.1.2, weak comparison).
// The tag is the entry's version (its compare-and-set token, from the bytes in Redis); an entry
// that never was in Redis (L1-only mode) has version 0 and gets a hash of its value and
// creation time instead.
// Thread-safety: pure functions.

#include "tiercache/cache/entry.hpp"

#include <string>
#include <string_view>

namespace tiercache::server {

// A strong entity tag, quotes included: "\"v1a2b3c\"".
std::string etag_of(const cache::Entry& entry);
// Whether an If-None-Match header value ("*", or a comma list of tags, W/ allowed) matches.
bool if_none_match(std::string_view header, std::string_view etag);

}  // namespace tiercache::server
