// TOML field readers: see toml_fields.hpp.

#include "server/toml_fields.hpp"

#include "server/units.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace tiercache::server {

[[noreturn]] void bad(std::string field, const toml::node& node, std::string why) {
  throw FieldError{std::move(field), node.source().begin, std::move(why)};
}

const toml::table& table_of(const toml::node& node, const std::string& field) {
  const auto* t = node.as_table();
  if (t == nullptr) bad(field, node, "must be a table");
  return *t;
}

void only_keys(const toml::table& t, const std::string& prefix,
               std::initializer_list<std::string_view> known) {
  for (const auto& [key, node] : t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      std::string list;
      for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      bad(prefix + std::string(key.str()), node, "unknown key (known: " + list + ")");
    }
  }
}

std::string string_of(const toml::node& node, const std::string& field) {
  const auto* s = node.as_string();
  if (s == nullptr) bad(field, node, "must be a string");
  return s->get();
}

bool bool_of(const toml::node& node, const std::string& field) {
  const auto* b = node.as_boolean();
  if (b == nullptr) bad(field, node, "must be true or false");
  return b->get();
}

std::int64_t int_of(const toml::node& node, const std::string& field, std::int64_t lo,
                    std::int64_t hi) {
  const auto* i = node.as_integer();
  if (i == nullptr) bad(field, node, "must be an integer");
  if (i->get() < lo || i->get() > hi) {
    bad(field, node, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return i->get();
}

double number_of(const toml::node& node, const std::string& field) {
  std::optional<double> d;
  if (const auto* f = node.as_floating_point()) d = f->get();
  if (const auto* i = node.as_integer()) d = static_cast<double>(i->get());
  if (!d || !std::isfinite(*d)) bad(field, node, "must be a number");
  return *d;
}

std::chrono::milliseconds duration_of(const toml::node& node, const std::string& field,
                                      bool allow_zero) {
  std::optional<std::chrono::milliseconds> d;
  if (const auto* i = node.as_integer()) {
    if (i->get() >= 0) d = parse_duration(std::to_string(i->get()));
  } else if (const auto* s = node.as_string()) {
    d = parse_duration(s->get());
  }
  if (!d) bad(field, node, "must be a duration such as \"500ms\", \"90s\", \"10m\" or \"1h30m\"");
  if (!allow_zero && d->count() == 0) bad(field, node, "must be greater than 0");
  return *d;
}

std::size_t size_of(const toml::node& node, const std::string& field) {
  std::optional<std::size_t> n;
  if (const auto* i = node.as_integer()) {
    if (i->get() >= 0) n = parse_size(std::to_string(i->get()));
  } else if (const auto* s = node.as_string()) {
    n = parse_size(s->get());
  }
  if (!n) bad(field, node, "must be a size such as 65536, \"64KiB\" or \"16MiB\" (at most 1 TiB)");
  return *n;
}

}  // namespace tiercache::server
