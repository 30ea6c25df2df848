// PrebuiltResponse: the header block as text. The checks in field() are the ones a Beast
// message's writer would need and does not make: the values here may come from bytes stored in
// Redis by anyone, and a CR or LF in one would let it write headers (or a response) of its own.

#include "server/prebuilt_response.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <utility>

namespace tiercache::server {
namespace {

// Byte classes for the checks in field(), one table look-up per byte (a hit checks ~60 bytes).
enum : unsigned char { kTokenChar = 1, kBreaksValue = 2 };

constexpr std::array<unsigned char, 256> byte_classes() {
  std::array<unsigned char, 256> table{};
  // RFC 9110 5.6.2: tchar.
  for (const char c : std::string_view("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
    table[static_cast<unsigned char>(c)] = kTokenChar;
  }
  for (const char c : {'\r', '\n', '\0'}) table[static_cast<unsigned char>(c)] = kBreaksValue;
  return table;
}
constexpr std::array<unsigned char, 256> kByteClasses = byte_classes();

bool all_bytes(std::string_view text, unsigned char cls) noexcept {
  return std::all_of(text.begin(), text.end(), [cls](char c) {
    return (kByteClasses[static_cast<unsigned char>(c)] & cls) != 0;
  });
}

bool no_byte(std::string_view text, unsigned char cls) noexcept {
  return std::none_of(text.begin(), text.end(), [cls](char c) {
    return (kByteClasses[static_cast<unsigned char>(c)] & cls) != 0;
  });
}

void append_number(std::string& out, std::size_t n) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
  out.append(digits.data(), end);
}

}  // namespace

bool PrebuiltResponse::carries_body(unsigned status) noexcept {
  return status >= 200 && status <= 599 && status != 204 && status != 304;
}

PrebuiltResponse::PrebuiltResponse(http::status status, const Request& req)
    : status_(static_cast<unsigned>(status)),
      version_(req.version()),
      keep_alive_(req.keep_alive()) {
  assert(carries_body(status_));
  fields_.reserve(160);
}

bool PrebuiltResponse::field(std::string_view name, std::string_view value) {
  if (name.empty() || !all_bytes(name, kTokenChar) || !no_byte(value, kBreaksValue)) return false;
  fields_.append(name).append(": ").append(value).append("\r\n");
  return true;
}

void PrebuiltResponse::body(std::shared_ptr<const void> owner, std::string_view bytes) noexcept {
  owner_ = std::move(owner);
  body_ = bytes;
}

Response PrebuiltResponse::to_message() const {
  Response res{static_cast<http::status>(status_), version_};
  // fields_ is "name: value\r\n" lines that field() checked: no CR or LF inside one.
  std::string_view rest = fields_;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    const auto colon = line.find(": ");
    res.insert(line.substr(0, colon), line.substr(colon + 2));
    rest.remove_prefix(eol + 2);
  }
  res.keep_alive(keep_alive_);
  res.body().assign(body_.data(), body_.size());
  res.prepare_payload();
  return res;
}

void PrebuiltResponse::write_head(std::string& out) const {
  out.clear();
  out += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, status_);
  out += ' ';
  out += http::obsolete_reason(static_cast<http::status>(status_));
  out += "\r\n";
  out += fields_;
  out += "Content-Length: ";
  append_number(out, body_.size());
  out += "\r\n";
  // As Beast's keep_alive(): HTTP/1.1 is persistent unless told, HTTP/1.0 only when told.
  if (version_ >= 11 && !keep_alive_) out += "Connection: close\r\n";
  if (version_ < 11 && keep_alive_) out += "Connection: keep-alive\r\n";
  out += "\r\n";
}

}  // namespace tiercache::server
