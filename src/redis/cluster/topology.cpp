// Parsing of the cluster's own description of itself. Both replies are read defensively: a slot
// out of range, a port out of range or a missing field drops that entry, never the process.

#include "redis/cluster/topology.hpp"

#include <charconv>

namespace tiercache::redis::detail {
namespace {

std::optional<std::int64_t> as_int(resp::ReplyView v) {
  if (v.type() == resp::Type::integer) return v.integer();
  const std::string_view s = v.str();
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

bool valid_slot(std::int64_t s) { return s >= 0 && s < 16384; }
bool valid_port(std::int64_t p) { return p > 0 && p < 65536; }

// A map (RESP3) or a flat array of key, value (RESP2): the value of `key`, or an empty view.
resp::ReplyView field(resp::ReplyView m, std::string_view key) {
  const std::size_t n = m.size();
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    if (m.at(i).str() == key) return m.at(i + 1);
  }
  return {};
}

}  // namespace

std::optional<Topology> parse_shards(resp::ReplyView reply, bool tls) {
  if (reply.is_error() || !reply.is_aggregate()) return std::nullopt;
  Topology t;
  for (const auto shard : reply) {
    const auto slots = field(shard, "slots");
    const auto nodes = field(shard, "nodes");
    std::optional<Endpoint> master;
    std::vector<Endpoint> replicas;
    for (const auto node : nodes) {
      const std::string_view role = field(node, "role").str();
      if ((role != "master" && role != "replica") || field(node, "health").str() != "online") {
        continue;
      }
      std::string host(field(node, "endpoint").str());
      if (host.empty() || host == "?") host = std::string(field(node, "ip").str());
      const auto port = as_int(field(node, tls ? "tls-port" : "port"));
      if (host.empty() || !port || !valid_port(*port)) continue;
      Endpoint at{std::move(host), static_cast<std::uint16_t>(*port)};
      if (role == "replica") {
        replicas.push_back(std::move(at));
      } else if (!master) {
        master = std::move(at);
      }
    }
    if (!master) continue;
    for (std::size_t i = 0; i + 1 < slots.size(); i += 2) {
      const auto first = as_int(slots.at(i));
      const auto last = as_int(slots.at(i + 1));
      if (!first || !last || !valid_slot(*first) || !valid_slot(*last) || *first > *last) continue;
      t.ranges.push_back({static_cast<int>(*first), static_cast<int>(*last), *master, replicas});
    }
  }
  if (t.ranges.empty()) return std::nullopt;
  return t;
}

std::optional<Topology> parse_slots(resp::ReplyView reply) {
  if (reply.is_error() || !reply.is_aggregate()) return std::nullopt;
  Topology t;
  for (const auto range : reply) {
    if (range.size() < 3) continue;
    const auto first = as_int(range.at(0));
    const auto last = as_int(range.at(1));
    const auto node = range.at(2);
    if (node.size() < 2) continue;
    const auto port = as_int(node.at(1));
    std::string host(node.at(0).str());
    if (!first || !last || !valid_slot(*first) || !valid_slot(*last) || *first > *last || !port ||
        !valid_port(*port) || host.empty() || host == "?") {
      continue;
    }
    SlotRange r{static_cast<int>(*first),
                static_cast<int>(*last),
                Endpoint{std::move(host), static_cast<std::uint16_t>(*port)},
                {}};
    for (std::size_t i = 3; i < range.size(); ++i) {
      const auto replica = range.at(i);
      if (replica.size() < 2) continue;
      const auto replica_port = as_int(replica.at(1));
      std::string replica_host(replica.at(0).str());
      if (!replica_port || !valid_port(*replica_port) || replica_host.empty() ||
          replica_host == "?") {
        continue;
      }
      r.replicas.push_back(
          Endpoint{std::move(replica_host), static_cast<std::uint16_t>(*replica_port)});
    }
    t.ranges.push_back(std::move(r));
  }
  if (t.ranges.empty()) return std::nullopt;
  return t;
}

std::optional<Redirect> parse_redirect(std::string_view error, std::string_view from_host) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view slot = error.substr(0, space);
  std::string_view address = error.substr(space + 1);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int s = 0;
  int p = 0;
  const auto [e1, c1] = std::from_chars(slot.data(), slot.data() + slot.size(), s);
  const auto [e2, c2] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (c1 != std::errc() || e1 != slot.data() + slot.size() || !valid_slot(s)) return std::nullopt;
  if (c2 != std::errc() || e2 != port.data() + port.size() || !valid_port(p)) return std::nullopt;
  r.slot = s;
  r.to = Endpoint{std::string(host.empty() ? from_host : host), static_cast<std::uint16_t>(p)};
  return r;
}

}  // namespace tiercache::redis::detail
