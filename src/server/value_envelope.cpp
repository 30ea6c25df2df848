#include "server/value_envelope.hpp"

#include <algorithm>
#include <cctype>

namespace tiercache::server {
namespace {

constexpr std::string_view kMagic{"\0tc1", 4};
constexpr std::string_view kOctets = "application/octet-stream";
constexpr std::string_view kJson = "application/json";

// Media type without parameters, lower-cased: "Application/JSON; charset=utf-8" -> json.
std::string essence(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  std::string out(type);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

StoredValue wrap_value(std::string body, std::string_view content_type, bool force_envelope) {
  const bool has_magic = force_envelope || body.compare(0, kMagic.size(), kMagic) == 0;
  const std::string type = essence(content_type);
  const bool plain_params = content_type.find(';') == std::string_view::npos ||
                            type == kJson;  // JSON is UTF-8 by definition (RFC 8259)
  if (!has_magic && plain_params && (type.empty() || type == kOctets)) {
    return {std::move(body), cache::Codec::raw};
  }
  if (!has_magic && type == kJson) return {std::move(body), cache::Codec::json};
  const std::string_view stored = content_type.empty() ? kOctets : content_type;
  std::string out;
  out.reserve(kMagic.size() + 1 + stored.size() + body.size());
  out.append(kMagic);
  out.push_back(static_cast<char>(static_cast<unsigned char>(stored.size())));
  out.append(stored);
  out.append(body);
  return {std::move(out), cache::Codec::raw};
}

UnwrappedValue unwrap_value(std::string_view bytes, cache::Codec codec) {
  if (bytes.size() > kMagic.size() && bytes.substr(0, kMagic.size()) == kMagic) {
    const auto len = static_cast<unsigned char>(bytes[kMagic.size()]);
    const std::size_t start = kMagic.size() + 1;
    if (len > 0 && bytes.size() >= start + len) {
      return {bytes.substr(start + len), std::string(bytes.substr(start, len))};
    }
  }
  return {bytes, std::string(codec == cache::Codec::json ? kJson : kOctets)};
}

}  // namespace tiercache::server
