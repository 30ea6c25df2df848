// StoredResponse: the encoding. Lengths are bounded where they are written (a header name over
// 255 bytes or a value over 65535 is not kept), and every length is checked on reading.

#include "server/proxy/stored_response.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace tiercache::server::proxy {
namespace {

constexpr std::string_view kMagic = "tcp1";
constexpr std::array<std::string_view, 9> kKept = {
    "content-type", "content-language", "etag", "last-modified", "cache-control",
    "expires",      "location",         "vary", "link"};

bool kept(std::string_view name) {
  return std::any_of(kKept.begin(), kKept.end(),
                     [&](std::string_view k) { return boost::beast::iequals(k, name); });
}

void put(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

struct Reader {
  std::string_view in;
  bool ok = true;

  std::uint64_t number(std::size_t bytes) {
    if (in.size() < bytes) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(bytes);
    return v;
  }
  std::string_view text(std::size_t size) {
    if (in.size() < size) {
      ok = false;
      return {};
    }
    auto t = in.substr(0, size);
    in.remove_prefix(size);
    return t;
  }
};

}  // namespace

StoredResponse keep_for_cache(const Response& res) {
  StoredResponse out{.status = res.result_int()};
  for (const auto& field : res) {
    const std::string_view name = field.name_string();
    const std::string_view value = field.value();
    if (name.size() > 255 || value.size() > 65535) continue;
    if (boost::beast::iequals(name, "age")) {
      std::uint32_t age = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), age);
      if (ec == std::errc{} && end == value.data() + value.size()) out.upstream_age = age;
      continue;
    }
    if (kept(name) && out.headers.size() < 255) out.headers.emplace_back(name, value);
  }
  out.body = res.body();
  return out;
}

std::string encode_response(const StoredResponse& stored) {
  std::size_t size = kMagic.size() + 2 + 4 + 1 + stored.body.size();
  for (const auto& [name, value] : stored.headers) size += 3 + name.size() + value.size();
  std::string out;
  out.reserve(size);
  out += kMagic;
  put(out, stored.status, 2);
  put(out, stored.upstream_age, 4);
  put(out, stored.headers.size(), 1);
  for (const auto& [name, value] : stored.headers) {
    put(out, name.size(), 1);
    out += name;
    put(out, value.size(), 2);
    out += value;
  }
  out += stored.body;
  return out;
}

std::optional<StoredResponse> decode_response(std::string_view bytes) {
  Reader r{bytes};
  if (r.text(kMagic.size()) != kMagic) return std::nullopt;
  StoredResponse out;
  out.status = static_cast<unsigned>(r.number(2));
  out.upstream_age = static_cast<std::uint32_t>(r.number(4));
  const auto count = r.number(1);
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    const auto name = r.text(r.number(1));
    const auto value = r.text(r.number(2));
    out.headers.emplace_back(name, value);
  }
  if (!r.ok || out.status < 100 || out.status > 599) return std::nullopt;
  out.body = r.in;
  return out;
}

}  // namespace tiercache::server::proxy
