// Tag and namespace versions (docs/decisions/0003). An entry stores each tag with the version it
// had before the value was loaded ("<version>:<tag>" in the L2 header's tag list); it is valid
// while every such version is current. Versions are cached in L1 under the same tracking as
// values, so the check costs no round trip on the hot path; a miss of several tags is one MGET.
// A version key that does not exist reads 0. invalidate_tags gives tag keys a TTL of 2 x max_ttl:
// any entry that recorded the old version has expired by the time the key expires and reads 0.

#include "tiercache/cache/entry_format.hpp"
#include "tiercache/cache/error.hpp"

#include "cache/cache_impl.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace tiercache::cache {
namespace {

std::uint64_t parse_version(std::string_view text) {
  std::uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

}  // namespace

asio::awaitable<Result<std::uint64_t>> Cache::Impl::ns_version() {
  if (!redis_) co_return ns_version_hint_.load();
  const std::string vk = version_key();
  L1* cached = meta();
  if (cached) {
    if (auto e = cached->get(vk)) co_return parse_version(e->value);
  }
  std::optional<LoadTicket> ticket;
  if (cached) ticket = cached->begin_load(vk);
  resp::Request req;
  req.push("GET", vk);
  auto reply = co_await exec(std::move(req));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Errc::redis_unavailable;
  const std::uint64_t v = reply->is_null() ? 0 : parse_version(reply->str());
  ns_version_hint_.store(v);
  if (ticket) l1_fill_meta(*ticket, v);
  co_return v;
}

asio::awaitable<Result<std::vector<std::uint64_t>>> Cache::Impl::tag_versions(
    std::vector<std::string> tags) {
  std::vector<std::uint64_t> versions(tags.size(), 0);
  if (!redis_) {
    std::lock_guard lock(local_tags_mu_);
    for (std::size_t i = 0; i < tags.size(); ++i) {
      auto it = local_tags_.find(tags[i]);
      if (it != local_tags_.end()) versions[i] = it->second;
    }
    co_return versions;
  }
  std::vector<std::size_t> missing;
  std::vector<std::string> keys;
  std::vector<LoadTicket> tickets;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string k = tag_key(tags[i]);
    if (L1* cached = meta()) {
      if (auto e = cached->get(k)) {
        versions[i] = parse_version(e->value);
        continue;
      }
      tickets.push_back(cached->begin_load(k));
    }
    missing.push_back(i);
    keys.push_back(std::move(k));
  }
  if (missing.empty()) co_return versions;
  resp::Request req;
  req.push_range("MGET", "", keys);
  auto reply = co_await exec(std::move(req));
  if (!reply) co_return reply.error();
  if (reply->is_error() || reply->size() != keys.size()) co_return Errc::redis_unavailable;
  for (std::size_t j = 0; j < missing.size(); ++j) {
    const auto element = reply->at(j);
    const std::uint64_t v = element.is_null() ? 0 : parse_version(element.str());
    versions[missing[j]] = v;
    if (!tickets.empty()) l1_fill_meta(tickets[j], v);
  }
  co_return versions;
}

asio::awaitable<Result<bool>> Cache::Impl::tags_current(std::shared_ptr<const Entry> entry) {
  std::vector<std::string> names;
  std::vector<std::uint64_t> stored;
  for (const auto& t : entry->tags) {
    if (auto split = detail::split_versioned_tag(t)) {
      stored.push_back(split->first);
      names.emplace_back(split->second);
    }
  }
  if (names.empty()) co_return true;
  auto current = co_await tag_versions(std::move(names));
  if (!current) co_return Result<bool>(boost::system::in_place_error, current.error());
  co_return *current == stored;
}

asio::awaitable<Result<Cache::Impl::WriteTags>> Cache::Impl::write_tags(std::uint64_t ns_version,
                                                                        WriteOptions options) {
  // The closure of dependencies: each entry already carries its own closure, so one level of
  // lookup suffices.
  std::set<std::string> closure(options.dependencies.begin(), options.dependencies.end());
  for (const auto& dep : options.dependencies) {
    const std::string rk = data_key(ns_version, dep);
    std::vector<std::string> deps_of_dep;
    std::shared_ptr<const Entry> cached = l1_ ? l1_->get(rk) : nullptr;
    if (cached) {
      deps_of_dep = cached->dependencies;
    } else if (redis_) {
      resp::Request req;
      req.push("GET", rk);
      auto reply = co_await exec(std::move(req));
      if (!reply) co_return reply.error();
      if (!reply->is_null() && !reply->is_error()) {
        if (auto header = decode_entry_header(reply->str())) deps_of_dep = header->dependencies;
      }
    }
    closure.insert(deps_of_dep.begin(), deps_of_dep.end());
  }
  std::vector<std::string> names = options.tags;
  for (const auto& dep : closure) names.push_back("dep:" + dep);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  auto versions = co_await tag_versions(names);
  if (!versions) co_return versions.error();
  WriteTags out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out.stored.push_back(detail::versioned_tag((*versions)[i], names[i]));
  }
  out.dependencies.assign(closure.begin(), closure.end());
  co_return out;
}

}  // namespace tiercache::cache
