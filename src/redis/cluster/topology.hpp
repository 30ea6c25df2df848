#pragma once
// Topology: which master serves each of the 16384 slots (and which replicas copy it), read from
// CLUSTER SHARDS (Redis 7) or
// CLUSTER SLOTS (older servers), and the -MOVED / -ASK redirections that correct it.
// Use: auto t = parse_shards(reply, /*tls=*/false); if (t) for (auto& r : t->ranges) ...
// Thread-safety: pure functions over values.

#include "tiercache/resp/reply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::redis::detail {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string key() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct SlotRange {
  int first = 0;  // inclusive
  int last = 0;   // inclusive
  Endpoint master;
  std::vector<Endpoint> replicas;  // online ones (CLUSTER SHARDS), or as listed (CLUSTER SLOTS)
};

struct Topology {
  std::vector<SlotRange> ranges;
};

// CLUSTER SHARDS: for each shard its slot ranges, the node whose role is master and whose
// health is online, and the online replicas; address from "endpoint" (else "ip"), port from
// "tls-port" when tls (else "port"). nullopt when the reply has no usable shard (an error reply, an
// unknown shape).
std::optional<Topology> parse_shards(resp::ReplyView reply, bool tls);
// CLUSTER SLOTS: [first, last, [host, port, id...], [replica host, port, id...]...] per range.
std::optional<Topology> parse_slots(resp::ReplyView reply);

struct Redirect {
  bool ask = false;  // -ASK: this request only; -MOVED: the slot has a new owner
  int slot = 0;
  Endpoint to;
};
// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 [::1]:6381"; nullopt for any other error text. An
// empty host (":6381", a node that does not know its address) keeps `from_host`.
std::optional<Redirect> parse_redirect(std::string_view error, std::string_view from_host);

}  // namespace tiercache::redis::detail
