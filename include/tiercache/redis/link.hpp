#pragma once
// What a Redis client tells its listeners about its links and out-of-band messages.
// A link is one connection to one server; its generation grows by one on every reconnect, so
// "what I read through link 2, generation 7" can be fenced when that generation ends.
// Handlers run on the link's strand, one at a time per link: keep them short and never block.

#include "tiercache/base/result.hpp"
#include "tiercache/resp/reply.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>

namespace tiercache::redis {

struct LinkId {
  std::size_t index = 0;         // which link of the client (0-based, stable)
  std::uint64_t generation = 0;  // which connection of that link (1 for the first)
  friend bool operator==(const LinkId&, const LinkId&) = default;
};

struct LinkEvent {
  enum class Kind { up, down };
  Kind kind = Kind::down;
  LinkId link;
  // up: the RESP version the handshake settled on (3, or 2 when the server has no HELLO).
  int protocol = 0;
  // down: why (connection_lost, protocol_error, link timeout, stopped...).
  error_code error;
};

// A push message (RESP3 '>'): client-side caching invalidations, pub/sub messages, ...
// The view lives only for the duration of the call.
using PushHandler = std::function<void(LinkId, resp::ReplyView)>;
using LinkHandler = std::function<void(const LinkEvent&)>;

}  // namespace tiercache::redis
