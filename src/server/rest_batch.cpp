// Batches and invalidation: POST /v1/cache/{ns}/batch/get, .../batch/set, .../invalidate.
// Values travel in JSON as "value" (a string, when the bytes are UTF-8) or "value_base64".
// Failures answer as the single-key routes do (cache_error): a 503 while the namespace's
// circuit breaker is open names the breaker.

#include "tiercache/base/json_text.hpp"

#include "server/etag.hpp"
#include "server/request_input.hpp"
#include "server/rest_api.hpp"
#include "server/value_envelope.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace tiercache::server {
namespace {

constexpr std::size_t kMaxBatch = 1000;

struct BatchItem {
  std::string key;
  std::string value;
  std::string content_type;
};

std::variant<BatchItem, ApiError> read_item(const boost::json::value& v, std::size_t i,
                                            const NamespaceConfig& ns) {
  const std::string where = "items[" + std::to_string(i) + "]";
  if (!v.is_object())
    return ApiError::bad_request("invalid_argument", where + " must be an object");
  const auto& o = v.as_object();
  for (const auto& member : o) {
    const std::string_view k = member.key();
    if (k != "key" && k != "value" && k != "value_base64" && k != "content_type") {
      return ApiError::bad_request("unknown_field",
                                   where + ": unknown field '" + std::string(k) +
                                       "' (known: key, value, value_base64, content_type)");
    }
  }
  BatchItem item;
  const auto* key = o.if_contains("key");
  if (key == nullptr || !key->is_string()) {
    return ApiError::bad_request("invalid_key", where + ".key must be a string");
  }
  item.key = std::string(key->as_string());
  if (auto e = check_key(item.key))
    return ApiError::bad_request("invalid_key", where + ": " + e->message);
  const auto* value = o.if_contains("value");
  const auto* b64 = o.if_contains("value_base64");
  if ((value == nullptr) == (b64 == nullptr)) {
    return ApiError::bad_request("invalid_argument",
                                 where + " needs exactly one of value and value_base64");
  }
  if (value != nullptr) {
    if (!value->is_string()) {
      return ApiError::bad_request("invalid_argument", where + ".value must be a string");
    }
    item.value = std::string(value->as_string());
  } else {
    if (!b64->is_string()) {
      return ApiError::bad_request("invalid_argument", where + ".value_base64 must be a string");
    }
    auto decoded = base64_decode(b64->as_string());
    if (!decoded) {
      return ApiError::bad_request("invalid_argument", where + ".value_base64 is not base64");
    }
    item.value = std::move(*decoded);
  }
  if (item.value.size() > ns.max_value_size) {
    return ApiError{http::status::payload_too_large, "value_too_large",
                    where + " exceeds this namespace's max_value_size"};
  }
  if (const auto* ct = o.if_contains("content_type")) {
    if (!ct->is_string() || ct->as_string().size() > 255) {
      return ApiError::bad_request("invalid_content_type",
                                   where + ".content_type must be a string of at most 255 bytes");
    }
    item.content_type = std::string(ct->as_string());
  }
  return item;
}

}  // namespace

asio::awaitable<Response> RestApi::get_batch(Request req, Match m) {
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = services_.namespaces->find(m.param("ns"));
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto body = read_json_object(req.body(), {"keys"});
  if (auto* e = std::get_if<ApiError>(&body)) co_return error_response(req, *e);
  const auto& obj = std::get<0>(body);
  const auto* keys_value = obj.if_contains("keys");
  if (keys_value == nullptr) {
    co_return error_response(req, ApiError::bad_request("invalid_argument", "keys is required"));
  }
  auto keys = string_array(*keys_value, "keys", kMaxBatch);
  if (auto* e = std::get_if<ApiError>(&keys)) co_return error_response(req, *e);
  auto& list = std::get<0>(keys);
  for (const auto& k : list) {
    if (auto e = check_key(k)) co_return error_response(req, *e);
  }
  auto r = co_await ns->cache->get_many(list);
  if (!r) co_return error_response(req, cache_error(*ns, r.error()));
  boost::json::array results;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& read = (*r)[i];
    boost::json::object item;
    item["key"] = list[i];
    item["hit"] = read.hit();
    if (read.hit()) {
      const auto value = unwrap_value(read.entry->value, read.entry->codec);
      if (is_valid_utf8(value.body)) {
        item["value"] = value.body;
      } else {
        item["value_base64"] = base64_encode(value.body);
      }
      item["content_type"] = value.content_type;
      item["etag"] = etag_of(*read.entry);
      item["stale"] = read.stale;
    } else if (read.error) {
      item["error"] = from_error_code(read.error).code;
    }
    results.push_back(std::move(item));
  }
  boost::json::object out;
  out["results"] = std::move(results);
  co_return json_response(req, http::status::ok, boost::json::serialize(out));
}

asio::awaitable<Response> RestApi::set_batch(Request req, Match m) {
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = services_.namespaces->find(m.param("ns"));
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto body =
      read_json_object(req.body(), {"items", "ttl", "grace", "tags", "dependencies", "priority"});
  if (auto* e = std::get_if<ApiError>(&body)) co_return error_response(req, *e);
  const auto& obj = std::get<0>(body);
  auto opts = json_write_options(obj, ns->config);
  if (auto* e = std::get_if<ApiError>(&opts)) co_return error_response(req, *e);
  const auto* items_value = obj.if_contains("items");
  if (items_value == nullptr || !items_value->is_array() || items_value->as_array().empty() ||
      items_value->as_array().size() > kMaxBatch) {
    co_return error_response(
        req, ApiError::bad_request("invalid_argument",
                                   "items must be an array of 1-" + std::to_string(kMaxBatch) +
                                       " objects {key, value | value_base64, content_type}"));
  }
  std::vector<BatchItem> items;
  const auto& array = items_value->as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto item = read_item(array[i], i, ns->config);
    if (auto* e = std::get_if<ApiError>(&item)) co_return error_response(req, *e);
    items.push_back(std::get<0>(std::move(item)));
  }
  // One write options for all: when JSON and other types mix, JSON values are enveloped too.
  std::vector<StoredValue> stored;
  stored.reserve(items.size());
  for (auto& item : items) stored.push_back(wrap_value(item.value, item.content_type));
  const bool mixed = std::any_of(stored.begin(), stored.end(), [&](const StoredValue& s) {
    return s.codec != stored.front().codec;
  });
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (mixed && stored[i].codec != cache::Codec::raw) {
      stored[i] = wrap_value(std::move(items[i].value), items[i].content_type, true);
    }
    pairs.emplace_back(std::move(items[i].key), std::move(stored[i].bytes));
  }
  auto options = std::get<cache::WriteOptions>(std::move(opts));
  options.codec = mixed ? cache::Codec::raw : stored.front().codec;
  const auto count = pairs.size();
  auto r = co_await ns->cache->set_many(std::move(pairs), std::move(options));
  if (!r) {
    ns->counters.write_errors->inc();
    co_return error_response(req, cache_error(*ns, r.error()));
  }
  ns->counters.sets->inc(count);
  boost::json::object out;
  out["written"] = count;
  co_return json_response(req, http::status::ok, boost::json::serialize(out));
}

asio::awaitable<Response> RestApi::invalidate_keys(Request req, Match m) {
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = services_.namespaces->find(m.param("ns"));
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto body = read_json_object(req.body(), {"keys", "tags", "pattern", "all"});
  if (auto* e = std::get_if<ApiError>(&body)) co_return error_response(req, *e);
  const auto& obj = std::get<0>(body);
  std::vector<std::string> keys;
  std::vector<std::string> tags;
  std::optional<std::string> pattern;
  bool all = false;
  if (const auto* v = obj.if_contains("keys")) {
    auto list = string_array(*v, "keys", kMaxBatch);
    if (auto* e = std::get_if<ApiError>(&list)) co_return error_response(req, *e);
    keys = std::get<0>(std::move(list));
    for (const auto& k : keys) {
      if (auto e = check_key(k)) co_return error_response(req, *e);
    }
  }
  if (const auto* v = obj.if_contains("tags")) {
    auto list = string_array(*v, "tags", kMaxBatch);
    if (auto* e = std::get_if<ApiError>(&list)) co_return error_response(req, *e);
    tags = std::get<0>(std::move(list));
    for (const auto& t : tags) {
      if (auto e = check_tag(t)) co_return error_response(req, *e);
    }
  }
  if (const auto* v = obj.if_contains("pattern")) {
    if (!v->is_string() || v->as_string().empty() || v->as_string().size() > 1024) {
      co_return error_response(
          req, ApiError::bad_request("invalid_pattern",
                                     "pattern must be a non-empty glob of at most 1024 bytes"));
    }
    pattern = std::string(v->as_string());
    if (auto e = check_key(*pattern)) {
      co_return error_response(req, ApiError::bad_request("invalid_pattern", e->message));
    }
  }
  if (const auto* v = obj.if_contains("all")) {
    if (!v->is_bool()) {
      co_return error_response(req,
                               ApiError::bad_request("invalid_argument", "all must be a boolean"));
    }
    all = v->as_bool();
  }
  if (keys.empty() && tags.empty() && !pattern && !all) {
    co_return error_response(
        req, ApiError::bad_request("invalid_argument",
                                   "name something to invalidate: keys, tags, pattern or all"));
  }
  boost::json::object out;
  std::uint64_t deleted = 0;
  for (const auto& k : keys) {
    auto r = co_await ns->cache->del(k);
    if (!r) co_return error_response(req, cache_error(*ns, r.error()));
    if (*r) ++deleted;
  }
  if (!keys.empty()) out["keys_deleted"] = deleted;
  if (!tags.empty()) {
    const auto n = tags.size();
    auto r = co_await ns->cache->invalidate_tags(std::move(tags));
    if (!r) co_return error_response(req, cache_error(*ns, r.error()));
    out["tags_invalidated"] = n;
  }
  if (pattern) {
    auto r = co_await ns->cache->invalidate_pattern(*pattern);
    if (!r) co_return error_response(req, cache_error(*ns, r.error()));
    out["pattern_removed"] = *r;
  }
  if (all) {
    auto r = co_await ns->cache->invalidate_namespace();
    if (!r) co_return error_response(req, cache_error(*ns, r.error()));
    out["namespace_invalidated"] = true;
  }
  co_return json_response(req, http::status::ok, boost::json::serialize(out));
}

}  // namespace tiercache::server
