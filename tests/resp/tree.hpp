#pragma once
// describe(): a reply as an exact, typed string, for comparing trees in tests and fuzz targets.
// "*2[$\"a\" :1]" is an array of a blob string and an integer; attributes show as "|N[...]" in
// front of their value. Unlike to_display(), it tells every type apart and keeps every byte.

#include "tiercache/resp/reply.hpp"

#include <cstdio>
#include <string>
#include <string_view>

namespace tiercache::resp::testing {

inline char type_marker(Type type) {
  constexpr std::string_view kMarkers = "+-:,#(_$!=*%~|>";
  return kMarkers[static_cast<std::size_t>(type)];
}

inline void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(u));
      out += hex;
    } else {
      out += c;
    }
  }
  out += '"';
}

inline void describe_into(std::string& out, ReplyView v) {
  if (const ReplyView attr = v.attribute(); attr.type() == Type::attribute) {
    describe_into(out, attr);
    out += ' ';
  }
  out += type_marker(v.type());
  switch (v.type()) {
    case Type::integer:
      out += std::to_string(v.integer());
      break;
    case Type::boolean:
      out += v.boolean() ? 't' : 'f';
      break;
    case Type::null:
      break;
    case Type::double_: {
      append_escaped(out, v.str());
      char number[40];
      std::snprintf(number, sizeof number, "=%.17g", v.number());
      out += number;
      break;
    }
    default:
      if (v.is_aggregate()) {
        out += std::to_string(v.size());
        out += '[';
        bool first = true;
        for (const ReplyView e : v) {
          if (!first) out += ' ';
          first = false;
          describe_into(out, e);
        }
        out += ']';
      } else {
        append_escaped(out, v.str());
      }
  }
}

inline std::string describe(ReplyView v) {
  std::string out;
  describe_into(out, v);
  return out;
}

}  // namespace tiercache::resp::testing
