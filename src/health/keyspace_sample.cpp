// A bounded SCAN. SCAN's COUNT is a hint: a small encoded keyspace comes back whole, and Redis
// may return more keys than asked, so the bound on keys is enforced here by cutting the reply,
// and the bound on work by counting requests. Keys scanned but cut are not counted; when the scan
// ends early, the namespaces' shares of what was seen are scaled to DBSIZE (SCAN visits buckets
// in an order unrelated to key names, so the seen keys are a fair sample of the rest). A cluster's
// masters are sampled one after the other, each with an equal share of the bounds and scaled to
// its own DBSIZE (keys with one {hash tag} live on one master, so one master's sample does not
// stand for the others').
#include "tiercache/health/keyspace_sample.hpp"

#include "tiercache/health/error.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::health {

void TtlDistribution::add(std::int64_t pttl_ms) noexcept {
  if (pttl_ms < 0) {
    ++no_ttl;
    return;
  }
  const std::int64_t seconds = pttl_ms / 1000;
  std::size_t i = 0;
  while (i < kBoundsSeconds.size() && seconds >= kBoundsSeconds[i]) ++i;
  ++buckets[i];
  ++sampled;
  ttl_sum_seconds += static_cast<double>(pttl_ms) / 1000.0;
}

namespace {

std::string_view namespace_of(std::string_view key) {
  const auto colon = key.find(':');
  return colon == std::string_view::npos ? std::string_view() : key.substr(0, colon);
}

// The sample of one node: `node` names a cluster's master (exec_on), or is empty for the one
// server (exec). `options` holds this node's share of the bounds.
asio::awaitable<Result<KeyspaceSample>> sample_node(std::shared_ptr<redis::AnyClient> redis,
                                                    std::string node,
                                                    KeyspaceSampleOptions options) {
  const auto exec = [&](resp::Request request) {
    return node.empty() ? redis->exec(std::move(request))
                        : redis->exec_on(node, std::move(request));
  };
  KeyspaceSample out;
  std::string cursor = "0";
  const std::string count = std::to_string(std::max<std::size_t>(options.scan_count, 1));
  // Each batch takes a SCAN and a PTTL request; the last round trip is kept for DBSIZE.
  while (out.keys_visited < options.max_keys && out.round_trips + 3 <= options.max_round_trips) {
    resp::Request scan;
    scan.push("SCAN", cursor, "MATCH", options.match, "COUNT", count);
    ++out.round_trips;
    auto reply = co_await exec(std::move(scan));
    if (!reply) co_return reply.error();
    if (reply->type() != resp::Type::array || reply->size() != 2 ||
        reply->at(1).type() != resp::Type::array) {
      co_return Errc::unexpected_reply;
    }
    cursor = std::string(reply->at(0).str());
    std::vector<std::string> keys;
    for (auto key : reply->at(1)) {
      if (out.keys_visited + keys.size() >= options.max_keys) break;
      keys.emplace_back(key.str());
    }
    if (!keys.empty()) {
      resp::Request ttls;
      for (const auto& k : keys) ttls.push("PTTL", k);
      ++out.round_trips;
      auto pttls = co_await exec(std::move(ttls));
      if (!pttls) co_return pttls.error();
      // One command's reply is itself; several come back as an array of replies.
      std::vector<resp::ReplyView> values;
      if (keys.size() == 1) {
        values.push_back(pttls->view());
      } else {
        for (auto v : *pttls) values.push_back(v);
      }
      if (values.size() != keys.size()) co_return Errc::unexpected_reply;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (values[i].type() != resp::Type::integer) co_return Errc::unexpected_reply;
        const std::int64_t pttl = values[i].integer();
        if (pttl == -2) continue;  // gone between SCAN and PTTL
        auto& ns = out.namespaces[std::string(namespace_of(keys[i]))];
        ++ns.sampled;
        ns.ttl.add(pttl);
      }
      out.keys_visited += keys.size();
    }
    if (cursor == "0") {
      out.complete = true;
      break;
    }
  }
  if (options.max_round_trips == 0) co_return out;
  if (out.complete) {
    out.dbsize = out.keys_visited;
    for (auto& [name, ns] : out.namespaces) ns.estimated = ns.sampled;
    co_return out;
  }
  resp::Request dbsize;
  dbsize.push("DBSIZE");
  ++out.round_trips;
  auto size = co_await exec(std::move(dbsize));
  if (!size) co_return size.error();
  if (size->type() != resp::Type::integer || size->integer() < 0) co_return Errc::unexpected_reply;
  out.dbsize = static_cast<std::uint64_t>(size->integer());
  for (auto& [name, ns] : out.namespaces) {
    ns.estimated = out.keys_visited == 0
                       ? ns.sampled
                       : static_cast<std::uint64_t>(std::llround(
                             static_cast<double>(ns.sampled) * static_cast<double>(out.dbsize) /
                             static_cast<double>(out.keys_visited)));
  }
  co_return out;
}

void add(TtlDistribution& to, const TtlDistribution& from) {
  for (std::size_t i = 0; i < to.buckets.size(); ++i) to.buckets[i] += from.buckets[i];
  to.no_ttl += from.no_ttl;
  to.sampled += from.sampled;
  to.ttl_sum_seconds += from.ttl_sum_seconds;
}

}  // namespace

asio::awaitable<Result<KeyspaceSample>> sample_keyspace(std::shared_ptr<redis::AnyClient> redis,
                                                        KeyspaceSampleOptions options) {
  const std::vector<std::string> nodes = redis->primaries();
  if (nodes.size() <= 1) co_return co_await sample_node(std::move(redis), "", std::move(options));
  // A cluster: each master scanned with an equal share of what the bounds leave, its counts
  // scaled to its own DBSIZE, then added up.
  KeyspaceSample out;
  out.complete = true;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::size_t left = nodes.size() - i;
    KeyspaceSampleOptions share = options;
    share.max_keys = (options.max_keys - out.keys_visited) / left;
    share.max_round_trips = (options.max_round_trips - out.round_trips) / left;
    auto one = co_await sample_node(redis, nodes[i], share);
    if (!one) co_return one.error();
    out.keys_visited += one->keys_visited;
    out.round_trips += one->round_trips;
    out.complete = out.complete && one->complete;
    out.dbsize += one->dbsize;
    for (const auto& [name, ns] : one->namespaces) {
      auto& to = out.namespaces[name];
      to.sampled += ns.sampled;
      to.estimated += ns.estimated;
      add(to.ttl, ns.ttl);
    }
  }
  co_return out;
}

}  // namespace tiercache::health
