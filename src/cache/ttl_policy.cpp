// TTL policy.
//
// A value's fresh time = its type's ttl x the multipliers of the rules that match, clamped to
// [min, max]; its grace window (how long it may still be served stale, for stale-while-revalidate
// and fail-safe) is the type's grace, which rules do not scale: the grace says how old a value
// may be before it is useless, a property of the data, not of the request.
//
// Rules. For each type, rules are kept in the order given. With Combine::multiply (the default)
// the first matching rule of each kind applies and the multipliers multiply: a flight in 2 days
// with 3 results gets 10 min x 0.5 x 0.75 = 3.75 min. Seed 004 returns at the first match, so
// there a near date hides a small result count (5 min); Combine::first keeps that behaviour for
// those who want it. Both agree whenever only one kind matches, which covers seed 004's examples.
//
// Days are calendar days in UTC between "today" (the injected clock's wall time) and the date:
// deterministic in tests, and the same on every instance. Seed 004 counts whole 24 h periods from
// the current instant to local midnight of the date, which is the calendar count, or one less
// after midnight UTC; thresholds are small integers either way.

#include "tiercache/cache/ttl_policy.hpp"

#include "tiercache/cache/error.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

// Thrown inside the loader only; from_toml turns it into a ConfigError.
struct Bad {
  std::string field;
  toml::source_position at;
  std::string why;
};

[[noreturn]] void bad(std::string field, const toml::node& node, std::string why) {
  throw Bad{std::move(field), node.source().begin, std::move(why)};
}

// "10m", "1h30m", "500ms", "7d"; or an integer number of seconds.
milliseconds duration(const toml::node& node, const std::string& field) {
  if (const auto* i = node.as_integer()) {
    if (i->get() < 0 || i->get() > 10LL * 365 * 86400) bad(field, node, "must be 0..10 years");
    return std::chrono::seconds(i->get());
  }
  const auto* s = node.as_string();
  if (s == nullptr) bad(field, node, "must be a duration such as \"90s\", \"10m\" or \"1h30m\"");
  const std::string_view text = s->get();
  milliseconds total{};
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    const std::size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && n < 1'000'000'000) {
      n = n * 10 + (text[i++] - '0');
    }
    std::size_t unit_end = i;
    while (unit_end < text.size() && text[unit_end] >= 'a' && text[unit_end] <= 'z') ++unit_end;
    const std::string_view unit = text.substr(i, unit_end - i);
    const std::int64_t per = unit == "ms"  ? 1
                             : unit == "s" ? 1000
                             : unit == "m" ? 60'000
                             : unit == "h" ? 3'600'000
                             : unit == "d" ? 86'400'000
                                           : 0;
    if (i == digits || per == 0) {
      bad(field, node, "'" + std::string(text) + "' is not a duration (units: ms s m h d)");
    }
    total += milliseconds(n * per);
    i = unit_end;
    if (total > milliseconds(10LL * 365 * 86'400'000)) break;
  }
  if (text.empty() || total > milliseconds(10LL * 365 * 86'400'000)) {
    bad(field, node, "must be a duration between 0 and 10 years");
  }
  return total;
}

std::int64_t integer(const toml::node& node, const std::string& field) {
  const auto* i = node.as_integer();
  if (i == nullptr) bad(field, node, "must be an integer");
  return i->get();
}

TypeTtl type_entry(const toml::node& node, const std::string& field) {
  if (!node.is_table()) return TypeTtl{.ttl = duration(node, field)};
  TypeTtl out;
  bool has_ttl = false;
  for (const auto& [key, value] : *node.as_table()) {
    const std::string f = field + "." + std::string(key.str());
    if (key == "ttl") {
      out.ttl = duration(value, f);
      has_ttl = true;
    } else if (key == "grace") {
      out.grace = duration(value, f);
    } else if (key == "min") {
      out.min = duration(value, f);
    } else if (key == "max") {
      out.max = duration(value, f);
    } else {
      bad(f, value, "unknown key (ttl, grace, min, max)");
    }
  }
  if (!has_ttl) bad(field + ".ttl", node, "missing: how long a value stays fresh");
  if (out.ttl <= 0ms) bad(field + ".ttl", node, "must be more than 0");
  if (out.min && out.max && *out.min > *out.max) bad(field + ".min", node, "is more than max");
  return out;
}

TtlRule rule_entry(const toml::node& node, const std::string& field, std::string& type,
                   const toml::node*& type_node) {
  const auto* table = node.as_table();
  if (table == nullptr) bad(field, node, "must be a table ([[ttl.rules]])");
  TtlRule out;
  bool has_kind = false;
  bool has_multiplier = false;
  for (const auto& [key, value] : *table) {
    const std::string f = field + "." + std::string(key.str());
    if (key == "type") {
      if (!value.is_string()) bad(f, value, "must be a type name from [ttl.types]");
      type = value.as_string()->get();
      type_node = &value;
    } else if (key == "kind") {
      const auto* s = value.as_string();
      if (s == nullptr || (s->get() != "date" && s->get() != "results")) {
        bad(f, value, "must be \"date\" or \"results\"");
      }
      out.kind = s->get() == "date" ? RuleKind::date : RuleKind::results;
      has_kind = true;
    } else if (key == "below") {
      out.below = integer(value, f);
    } else if (key == "above") {
      out.above = integer(value, f);
    } else if (key == "multiplier") {
      const std::optional<double> m = value.value<double>();
      if (!m || !std::isfinite(*m) || *m <= 0 || *m > 1000) bad(f, value, "must be a number > 0");
      out.multiplier = *m;
      has_multiplier = true;
    } else {
      bad(f, value, "unknown key (type, kind, below, above, multiplier)");
    }
  }
  if (type.empty()) bad(field + ".type", node, "missing: which data type the rule is for");
  if (!has_kind) bad(field + ".kind", node, "missing: \"date\" or \"results\"");
  if (!has_multiplier) bad(field + ".multiplier", node, "missing");
  if (!out.below && !out.above) bad(field, node, "needs below, above or both");
  if (out.below && out.above && *out.above >= *out.below)
    bad(field, node, "above >= below: never matches");
  if (out.kind == RuleKind::results &&
      ((out.below && *out.below < 0) || (out.above && *out.above < 0))) {
    bad(field, node, "a result count is never negative");
  }
  return out;
}

TtlPolicy load(const toml::table& root, const Clock& clock) {
  const toml::node* ttl_node = root.get("ttl");
  if (ttl_node == nullptr || !ttl_node->is_table()) bad("ttl", root, "missing: the [ttl] table");
  const toml::table& ttl = *ttl_node->as_table();
  std::optional<milliseconds> fallback, grace, min, max;
  Combine combine = Combine::multiply;
  const toml::array* rules = nullptr;
  const toml::table* types = nullptr;
  for (const auto& [key, value] : ttl) {
    const std::string f = "ttl." + std::string(key.str());
    if (key == "default") {
      fallback = duration(value, f);
      if (*fallback <= 0ms) bad(f, value, "must be more than 0");
    } else if (key == "grace") {
      grace = duration(value, f);
    } else if (key == "min") {
      min = duration(value, f);
    } else if (key == "max") {
      max = duration(value, f);
    } else if (key == "combine") {
      const auto* s = value.as_string();
      if (s == nullptr || (s->get() != "multiply" && s->get() != "first")) {
        bad(f, value, "must be \"multiply\" or \"first\"");
      }
      combine = s->get() == "multiply" ? Combine::multiply : Combine::first;
    } else if (key == "types") {
      types = value.as_table();
      if (types == nullptr) bad(f, value, "must be a table of type = duration or {ttl = ...}");
    } else if (key == "rules") {
      rules = value.as_array();
      if (rules == nullptr) bad(f, value, "must be an array of tables ([[ttl.rules]])");
    } else {
      bad(f, value, "unknown key (default, grace, min, max, combine, types, rules)");
    }
  }
  if (!fallback) bad("ttl.default", ttl, "missing: the TTL of types not listed");
  if (min && max && *min > *max) bad("ttl.min", ttl, "is more than ttl.max");
  TtlPolicy out(TypeTtl{.ttl = *fallback}, clock);
  out.set_combine(combine).set_grace(grace).set_bounds(min, max);
  std::map<std::string, bool, std::less<>> declared;
  if (types != nullptr) {
    for (const auto& [key, value] : *types) {
      out.set_type(std::string(key.str()),
                   type_entry(value, "ttl.types." + std::string(key.str())));
      declared.emplace(key.str(), true);
    }
  }
  if (rules != nullptr) {
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const std::string f = "ttl.rules[" + std::to_string(i) + "]";
      std::string type;
      const toml::node* type_node = nullptr;
      const TtlRule rule = rule_entry(*rules->get(i), f, type, type_node);
      if (!declared.contains(type)) {
        bad(f + ".type", *type_node, "'" + type + "' is not listed in [ttl.types]");
      }
      out.add_rule(type, rule);
    }
  }
  return out;
}

ConfigError config_error(std::string_view source, std::string field, toml::source_position at,
                         std::string_view why) {
  ConfigError e{.field = std::move(field),
                .line = at.line,
                .column = at.column,
                .message = {},
                .code = Errc::invalid_config};
  e.message = std::string(source) + ":" + std::to_string(at.line) + ":" +
              std::to_string(at.column) + ": " + (e.field.empty() ? "" : e.field + ": ") +
              std::string(why);
  return e;
}

bool matches(const TtlRule& rule, std::int64_t value) {
  return (!rule.below || value < *rule.below) && (!rule.above || value > *rule.above);
}

}  // namespace

TtlPolicy::TtlPolicy(TypeTtl fallback, const Clock& clock) : clock_(&clock) {
  set_type("", fallback);
  fallback_ = types_.extract("").mapped();
}

TtlPolicy TtlPolicy::defaults(const Clock& clock) {
  TtlPolicy p(TypeTtl{.ttl = 30min}, clock);
  p.set_type("flight_search", {.ttl = 10min})
      .set_type("hotel_search", {.ttl = 30min})
      .set_type("activity_search", {.ttl = 1h})
      .set_type("airport", {.ttl = 24h})
      .set_type("airline", {.ttl = 24h})
      .set_type("city", {.ttl = 7 * 24h})
      .set_type("flight_details", {.ttl = 5min})
      .set_type("hotel_details", {.ttl = 15min})
      .set_type("user_preferences", {.ttl = 15min})
      .set_type("weather", {.ttl = 1h})
      .set_type("exchange_rate", {.ttl = 1h});
  using K = RuleKind;
  p.add_rule("flight_search", {.kind = K::date, .below = 3, .above = {}, .multiplier = 0.5})
      .add_rule("flight_search", {.kind = K::date, .below = 7, .above = {}, .multiplier = 0.75})
      .add_rule("flight_search", {.kind = K::date, .below = {}, .above = 90, .multiplier = 1.5})
      .add_rule("flight_search", {.kind = K::results, .below = 5, .above = {}, .multiplier = 0.75})
      .add_rule("flight_search", {.kind = K::results, .below = {}, .above = 50, .multiplier = 1.25})
      .add_rule("hotel_search", {.kind = K::date, .below = 7, .above = {}, .multiplier = 0.6})
      .add_rule("hotel_search", {.kind = K::date, .below = 14, .above = {}, .multiplier = 0.8})
      .add_rule("hotel_search", {.kind = K::date, .below = {}, .above = 60, .multiplier = 1.3})
      .add_rule("hotel_search", {.kind = K::results, .below = 10, .above = {}, .multiplier = 0.8});
  return p;
}

TtlPolicyResult TtlPolicy::from_toml(std::string_view text, std::string_view source_name,
                                     const Clock& clock) {
  try {
    const toml::table root = toml::parse(text, source_name);
    return load(root, clock);
  } catch (const toml::parse_error& e) {
    return config_error(source_name, "", e.source().begin, e.description());
  } catch (const Bad& e) {
    return config_error(source_name, e.field, e.at, e.why);
  }
}

TtlPolicyResult TtlPolicy::from_toml_file(const std::string& path, const Clock& clock) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return ConfigError{.field = {},
                       .line = 0,
                       .column = 0,
                       .message = path + ": cannot be read",
                       .code = Errc::invalid_config};
  }
  return from_toml(text.str(), path, clock);
}

TtlPolicy& TtlPolicy::set_type(std::string name, TypeTtl type) {
  if (type.ttl <= 0ms || (type.grace && *type.grace < 0ms) ||
      (type.min && type.max && *type.min > *type.max)) {
    throw std::invalid_argument("TtlPolicy: type '" + name + "' needs ttl > 0 and min <= max");
  }
  types_[std::move(name)].ttl = type;
  return *this;
}

TtlPolicy& TtlPolicy::add_rule(std::string_view type, TtlRule rule) {
  if ((!rule.below && !rule.above) || !(rule.multiplier > 0) || !std::isfinite(rule.multiplier)) {
    throw std::invalid_argument("TtlPolicy: a rule needs below or above, and a multiplier > 0");
  }
  auto it = types_.find(type);
  if (it == types_.end()) it = types_.emplace(std::string(type), fallback_).first;
  it->second.rules.push_back(rule);
  return *this;
}

TtlPolicy& TtlPolicy::set_combine(Combine combine) noexcept {
  combine_ = combine;
  return *this;
}

TtlPolicy& TtlPolicy::set_grace(std::optional<milliseconds> grace) noexcept {
  grace_ = grace;
  return *this;
}

TtlPolicy& TtlPolicy::set_bounds(std::optional<milliseconds> min, std::optional<milliseconds> max) {
  if (min && max && *min > *max) throw std::invalid_argument("TtlPolicy: min is more than max");
  min_ = min;
  max_ = max;
  return *this;
}

const TtlPolicy::Type& TtlPolicy::type_of(std::string_view name) const {
  const auto it = types_.find(name);
  return it == types_.end() ? fallback_ : it->second;
}

Ttl TtlPolicy::ttl_for(std::string_view type_name, const TtlInput& input) const {
  const Type& type = type_of(type_name);
  std::optional<std::int64_t> days;
  if (input.date) {
    const auto today = std::chrono::floor<std::chrono::days>(clock_->wall_now());
    days = (*input.date - today).count();
  }
  double multiplier = 1.0;
  bool date_done = !days.has_value();
  bool results_done = !input.results.has_value();
  for (const TtlRule& rule : type.rules) {
    const bool is_date = rule.kind == RuleKind::date;
    if (is_date ? date_done : results_done) continue;
    const auto value = is_date ? *days : static_cast<std::int64_t>(*input.results);
    if (!matches(rule, value)) continue;
    multiplier *= rule.multiplier;
    if (combine_ == Combine::first) break;
    (is_date ? date_done : results_done) = true;
  }
  auto fresh = milliseconds(static_cast<std::int64_t>(
      std::floor(static_cast<double>(type.ttl.ttl.count()) * multiplier)));
  const auto min = type.ttl.min ? type.ttl.min : min_;
  const auto max = type.ttl.max ? type.ttl.max : max_;
  if (min && fresh < *min) fresh = *min;
  if (max && fresh > *max) fresh = *max;
  if (fresh < 1ms) fresh = 1ms;
  const milliseconds grace = type.ttl.grace ? *type.ttl.grace : grace_ ? *grace_ : type.ttl.ttl;
  return Ttl{.fresh = fresh, .grace = grace};
}

std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
  if (text.size() < 10 || (text.size() > 10 && text[10] != 'T' && text[10] != ' ')) {
    return std::nullopt;
  }
  int parts[3] = {0, 0, 0};
  const std::size_t at[3] = {0, 5, 8};
  const std::size_t len[3] = {4, 2, 2};
  if (text[4] != '-' || text[7] != '-') return std::nullopt;
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = at[p]; i < at[p] + len[p]; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (text[i] - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year(parts[0]),
                                        std::chrono::month(static_cast<unsigned>(parts[1])),
                                        std::chrono::day(static_cast<unsigned>(parts[2]))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

void throw_exception_from_error(const ConfigError& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace tiercache::cache
