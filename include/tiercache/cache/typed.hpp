#pragma once
// Typed values: JSON and MessagePack on top of the byte-valued Cache, both through nlohmann-json
// (docs/decisions/0006-typed-values.md). T is anything nlohmann converts: give it adl to_json and
// from_json (or NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE). The entry header records the codec written.
// Use: co_await cache::set_as(cache, "LHR-JFK", flight, {.ttl = 10min}, cache::Format::msgpack);
//      auto r = co_await cache::get_as<Flight>(cache, "LHR-JFK", cache::Format::msgpack);
//      if (r && r->hit()) use(*r->value);
// Thread-safety: free functions over a Cache, which is safe from any thread.
//
// Bytes that do not decode to T fail with Errc::decode_failed (the reason is logged), an entry
// whose header names the other codec with Errc::codec_mismatch, a value nlohmann cannot encode
// with Errc::encode_failed. No exception from nlohmann or from T's conversions escapes. Nesting
// deeper than kMaxDecodeDepth is refused before it can exhaust the stack. A stored value that no
// longer decodes (T changed shape) is not reloaded by get_or_load_as: del() it or let it expire.
//
// The coroutines below follow Cache's rules (cache.hpp): Completes with the Result documented on
// each. Cancellation: none of their own, bounded as the Cache call they make. Lifetimes: the
// Cache must outlive the call; other arguments are copied. Example:
// tests/cache/cache_typed_test.cpp.

#include "tiercache/base/result.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/error.hpp"
#include "tiercache/cache/options.hpp"
#include "tiercache/cache/read_result.hpp"

#include <boost/asio/awaitable.hpp>
#include <spdlog/spdlog.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::cache {

// How a typed value is encoded into the entry's payload.
enum class Format : std::uint8_t { json, msgpack };

constexpr Codec codec_of(Format format) noexcept {
  return format == Format::json ? Codec::json : Codec::msgpack;
}
constexpr std::string_view to_string(Format format) noexcept {
  return format == Format::json ? "json" : "msgpack";
}

// Arrays and objects nested deeper than this fail to decode (decode_failed). nlohmann's
// MessagePack reader, and its copies and conversions of either format, recurse once per level:
// this bounds their stack use on hostile bytes.
inline constexpr std::size_t kMaxDecodeDepth = 256;

// A type nlohmann converts both ways: to_json and from_json found by ADL (or adl_serializer).
template <class T>
concept JsonConvertible = std::movable<T> && requires(const T& value, const nlohmann::json& j) {
  nlohmann::json(value);
  { j.template get<T>() } -> std::same_as<T>;
};

// What a typed read found: the value (none on a miss) and the ReadResult's metadata.
template <class T>
struct TypedReadResult {
  std::optional<T> value{};
  Source source = Source::none;
  // The value is past its fresh_until (inside its grace window).
  bool stale = false;
  // Redis could not be reached for this answer.
  bool degraded = false;
  // What a fail-safe or degraded answer masked, or why a miss is one (not_an_entry...).
  error_code error{};

  bool hit() const noexcept { return value.has_value(); }
};

// A loader producing a T: the typed counterpart of Loader, under the same rules (named coroutine;
// it may throw, which becomes loader_failed).
template <class T>
using TypedLoader = std::function<asio::awaitable<Result<T>>()>;

namespace detail {

// nlohmann's DOM builder with a depth bound: a SAX handler that stops the parse (returns false)
// when arrays and objects nest deeper than max_depth, before the reader recurses further.
class BoundedDomBuilder {
 public:
  using json = nlohmann::json;

  BoundedDomBuilder(json& root, std::size_t max_depth) : root_(root), max_depth_(max_depth) {}

  bool null() { return put(nullptr) != nullptr; }
  bool boolean(bool v) { return put(v) != nullptr; }
  bool number_integer(json::number_integer_t v) { return put(v) != nullptr; }
  bool number_unsigned(json::number_unsigned_t v) { return put(v) != nullptr; }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    return put(v) != nullptr;
  }
  bool string(json::string_t& v) { return put(std::move(v)) != nullptr; }
  bool binary(json::binary_t& v) { return put(std::move(v)) != nullptr; }
  bool start_object(std::size_t /*size*/) { return open(json::object()); }
  bool key(json::string_t& k) {
    member_ = &(*stack_.back())[std::move(k)];
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*size*/) { return open(json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const json::exception& e) {
    error_ = e.what();
    return false;
  }

  // Why the parse stopped; empty when it did not.
  const std::string& error() const noexcept { return error_; }

 private:
  // Places v where the parse is (root, next array element, or the member just keyed).
  json* put(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      return &stack_.back()->back();
    }
    *member_ = std::move(v);
    return member_;
  }
  bool open(json container) {
    if (stack_.size() >= max_depth_) {
      error_ = "nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    stack_.push_back(put(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  json& root_;
  std::size_t max_depth_;
  std::vector<json*> stack_;
  json* member_ = nullptr;
  std::string error_;
};

// An error as a Result<T>, explicitly: a T such as nlohmann::json converts from anything.
template <class T>
Result<T> failure(error_code ec) {
  return Result<T>(boost::system::in_place_error, ec);
}

// decode(), with the reason for a failure in why.
template <JsonConvertible T>
Result<T> decode_explained(std::string_view bytes, Format format, std::string& why) {
  try {
    nlohmann::json j;
    BoundedDomBuilder builder(j, kMaxDecodeDepth);
    const auto input = format == Format::json ? nlohmann::json::input_format_t::json
                                              : nlohmann::json::input_format_t::msgpack;
    if (!nlohmann::json::sax_parse(bytes, &builder, input, /*strict=*/true)) {
      why =
          builder.error().empty() ? "not valid " + std::string(to_string(format)) : builder.error();
      return failure<T>(Errc::decode_failed);
    }
    return j.template get<T>();
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "a conversion threw a non-exception";
  }
  return failure<T>(Errc::decode_failed);
}

template <JsonConvertible T>
Result<std::string> encode_explained(const T& value, Format format, std::string& why) {
  try {
    const nlohmann::json j(value);
    if (format == Format::json) return j.dump();
    std::string bytes;
    nlohmann::json::to_msgpack(j, bytes);
    return bytes;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "a conversion threw a non-exception";
  }
  return Errc::encode_failed;
}

// Whether an entry written with `codec` may be read as `format`: its own codec, or raw (bytes a
// codec-unaware writer stored; they must then decode).
constexpr bool readable_as(Codec codec, Format format) noexcept {
  return codec == Codec::raw || codec == codec_of(format);
}

template <JsonConvertible T>
Result<TypedReadResult<T>> to_typed(ReadResult read, Format format, const Cache& cache,
                                    std::string_view key) {
  TypedReadResult<T> out{
      .source = read.source, .stale = read.stale, .degraded = read.degraded, .error = read.error};
  if (!read.hit()) return out;
  if (!readable_as(read.entry->codec, format)) {
    spdlog::warn("cache {}: key {} holds codec {}, read as {}", cache.options().ns, key,
                 static_cast<int>(read.entry->codec), to_string(format));
    return failure<TypedReadResult<T>>(Errc::codec_mismatch);
  }
  std::string why;
  auto value = decode_explained<T>(read.value(), format, why);
  if (!value) {
    spdlog::warn("cache {}: key {} does not decode from {}: {}", cache.options().ns, key,
                 to_string(format), why);
    return failure<TypedReadResult<T>>(value.error());
  }
  out.value = std::move(*value);
  return out;
}

inline asio::awaitable<Result<void>> fail_void(error_code ec) { co_return ec; }

template <JsonConvertible T>
asio::awaitable<Result<std::string>> load_encoded(TypedLoader<T> loader, Format format,
                                                  std::string ns) {
  Result<T> loaded = co_await loader();
  if (!loaded) co_return loaded.error();
  std::string why;
  auto bytes = encode_explained(*loaded, format, why);
  if (!bytes) {
    spdlog::warn("cache {}: a loaded value does not encode as {}: {}", ns, to_string(format), why);
  }
  co_return bytes;
}

}  // namespace detail

// The bytes of value in format. Fails with encode_failed (a conversion threw; for JSON, a string
// that is not UTF-8).
template <JsonConvertible T>
Result<std::string> encode(const T& value, Format format) {
  std::string why;
  return detail::encode_explained(value, format, why);
}

// The T in bytes. Fails with decode_failed: not valid JSON / MessagePack (trailing bytes
// included), nested deeper than kMaxDecodeDepth, or a document that does not convert to T.
template <JsonConvertible T>
Result<T> decode(std::string_view bytes, Format format) {
  std::string why;
  return detail::decode_explained<T>(bytes, format, why);
}

// Cache::get, decoded. Completes with a TypedReadResult (without value on a miss), or the error of
// Cache::get, decode_failed, or codec_mismatch (the header names the other codec, or one unknown
// to this reader; raw entries are decoded as `format`).
template <JsonConvertible T>
[[nodiscard]] asio::awaitable<Result<TypedReadResult<T>>> get_as(Cache& cache, std::string key,
                                                                 Format format = Format::json) {
  Result<ReadResult> read = co_await cache.get(key);
  if (!read) co_return detail::failure<TypedReadResult<T>>(read.error());
  co_return detail::to_typed<T>(std::move(*read), format, cache, key);
}

// Cache::set of value's encoding, with options.codec set to format's. Encodes before returning
// (value is not read after the call), so a failed encoding (encode_failed) writes nothing.
// Completes with: as Cache::set, or encode_failed.
template <JsonConvertible T>
[[nodiscard]] asio::awaitable<Result<void>> set_as(Cache& cache, std::string key, const T& value,
                                                   WriteOptions options = {},
                                                   Format format = Format::json) {
  std::string why;
  auto bytes = detail::encode_explained(value, format, why);
  if (!bytes) {
    spdlog::warn("cache {}: value for key {} does not encode as {}: {}", cache.options().ns, key,
                 to_string(format), why);
    return detail::fail_void(bytes.error());
  }
  options.codec = codec_of(format);
  return cache.set(std::move(key), std::move(*bytes), std::move(options));
}

// Cache::get_or_load with a loader of T: what it loads is encoded in format (policy.write.codec is
// set to match) and what the cache answers is decoded as by get_as. A loaded value that does not
// encode is the loader's error (encode_failed): fail-safe may then serve a stale one.
// Completes with: as Cache::get_or_load, plus decode_failed and codec_mismatch. The loader is
// kept as long as a load (or a background refresh) needs it.
template <JsonConvertible T>
[[nodiscard]] asio::awaitable<Result<TypedReadResult<T>>> get_or_load_as(
    Cache& cache, std::string key, TypedLoader<T> loader, LoadPolicy policy = {},
    Format format = Format::json) {
  policy.write.codec = codec_of(format);
  Loader bytes_loader = [loader = std::move(loader), format, ns = cache.options().ns] {
    return detail::load_encoded<T>(loader, format, ns);
  };
  Result<ReadResult> read =
      co_await cache.get_or_load(key, std::move(bytes_loader), std::move(policy));
  if (!read) co_return detail::failure<TypedReadResult<T>>(read.error());
  co_return detail::to_typed<T>(std::move(*read), format, cache, key);
}

}  // namespace tiercache::cache
