// get_many and set_many: several keys in one round trip. get_many answers what it can from L1
// and asks Redis for the rest with one MGET (load tickets taken first, as read() does); set_many
// writes every entry in one MULTI ... EXEC through write_many (l2_store.cpp).

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/error.hpp"

#include "cache/cache_impl.hpp"

namespace tiercache::cache {
namespace {

asio::awaitable<Result<std::vector<ReadResult>>> read_many(std::shared_ptr<Cache::Impl> self,
                                                           std::vector<std::string> keys) {
  for (const auto& key : keys) {
    if (auto ok = self->check_key(key); !ok) co_return ok.error();
  }
  auto v = co_await self->ns_version();
  const std::uint64_t nsv = v ? *v : self->ns_version_hint_.load();
  std::vector<ReadResult> results(keys.size());
  std::vector<std::size_t> missing;
  std::vector<std::string> rks;
  std::vector<std::optional<LoadTicket>> tickets;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string rk = self->data_key(nsv, keys[i]);
    if (auto hit = co_await self->read_l1(rk)) {
      results[i] = std::move(*hit);
      continue;
    }
    if (self->l1_) {
      tickets.emplace_back(self->l1_->begin_load(rk));
    } else {
      tickets.emplace_back();
    }
    missing.push_back(i);
    rks.push_back(std::move(rk));
  }
  if (missing.empty() || !self->redis_) co_return results;

  auto read = self->tracked_read(self->track_data());
  read.request.push_range("MGET", "", rks);
  auto reply = co_await self->exec(std::move(read.request));
  const resp::ReplyView values = reply ? read.reply(*reply) : resp::ReplyView{};
  if (!reply || values.is_error() || values.size() != rks.size()) {
    const error_code ec = reply ? error_code(Errc::redis_unavailable) : reply.error();
    for (std::size_t j = 0; j < missing.size(); ++j) {
      auto fallback = self->from_shelf(rks[j], ec);
      results[missing[j]] =
          fallback ? std::move(*fallback) : ReadResult{.degraded = true, .error = ec};
    }
    co_return results;
  }
  std::size_t j = 0;
  for (const auto element : values) {
    results[missing[j]] = co_await self->accept_l2(rks[j], element, std::move(tickets[j]));
    ++j;
  }
  co_return results;
}

}  // namespace

asio::awaitable<Result<std::vector<ReadResult>>> Cache::get_many(std::vector<std::string> keys) {
  auto self = impl_;
  const std::size_t asked = keys.size();
  auto results = co_await read_many(self, std::move(keys));
  if (results) {
    for (const auto& r : *results) self->count_read(r);
  } else {
    self->reads_.errors.fetch_add(asked, std::memory_order_relaxed);
  }
  co_return results;
}

asio::awaitable<Result<void>> Cache::set_many(
    std::vector<std::pair<std::string, std::string>> items, WriteOptions options) {
  auto self = impl_;
  for (const auto& [key, value] : items) {
    if (auto ok = self->check_key(key); !ok) co_return ok.error();
    if (value.size() > self->options_.max_value_size) co_return Errc::value_too_large;
  }
  if (items.empty()) co_return Result<void>{};
  auto v = co_await self->ns_version();
  if (!v) co_return v.error();
  auto tags = co_await self->write_tags(*v, options);
  if (!tags) co_return tags.error();
  std::vector<std::string> rks;
  std::vector<std::shared_ptr<Entry>> entries;
  for (auto& [key, value] : items) {
    auto entry = self->make_entry(std::move(value), options, tags->stored, tags->dependencies);
    if (!entry) co_return entry.error();
    rks.push_back(self->data_key(*v, key));
    entries.push_back(std::move(*entry));
  }
  co_return co_await self->write_many(std::move(rks), std::move(entries));
}

}  // namespace tiercache::cache
