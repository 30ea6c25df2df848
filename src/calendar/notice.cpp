#include "tiercache/calendar/notice.hpp"

#include "tiercache/calendar/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tiercache::calendar {
namespace {

namespace json = boost::json;

}  // namespace

std::string to_json_text(const InvalidationNotice& n) {
  json::object out;
  out["type"] =
      n.kind == InvalidationNotice::Kind::range ? "invalidate_range" : "invalidate_location";
  out["prefix"] = n.prefix;
  out["location"] = n.location;
  if (n.range) {
    out["from"] = format_day(n.range->from);
    out["to"] = format_day(n.range->to);
  }
  out["at"] = format_time(n.at);
  return json::serialize(out);
}

Result<InvalidationNotice> parse_notice(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (!o) return Errc::invalid_argument;
  auto str = [o](std::string_view name) -> std::optional<std::string_view> {
    const auto* f = o->if_contains(name);
    if (!f || !f->is_string()) return std::nullopt;
    return std::string_view(f->get_string());
  };
  const auto type = str("type");
  const auto prefix = str("prefix");
  const auto location = str("location");
  const auto at = str("at");
  if (!type || !prefix || !location || !at) return Errc::invalid_argument;
  InvalidationNotice n;
  if (*type == "invalidate_range") {
    n.kind = InvalidationNotice::Kind::range;
    const auto from = str("from");
    const auto to = str("to");
    if (!from || !to) return Errc::invalid_argument;
    auto range = parse_range(*from, *to);
    if (!range) return Errc::invalid_argument;
    n.range = *range;
  } else if (*type == "invalidate_location") {
    n.kind = InvalidationNotice::Kind::location;
  } else {
    return Errc::invalid_argument;
  }
  auto when = parse_time(*at);
  if (!when) return Errc::invalid_argument;
  n.prefix = std::string(*prefix);
  n.location = std::string(*location);
  n.at = *when;
  return n;
}

}  // namespace tiercache::calendar
