#pragma once
// TOML field readers for the daemon's config: each reads one node as the type a field wants, or
// throws FieldError naming the field ("proxy.routes.weather.ttl") and where it is in the file.
// load_config turns a FieldError into a ConfigError with the file's name.
// Use: c.threads = int_of(*node, "server.threads", 0, 1024);
//      only_keys(table, "server.", {"listen", "threads"});   // any other key is an error
// Thread-safety: pure functions.

#include <toml++/toml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace tiercache::server {

struct FieldError {
  std::string field;
  toml::source_position at;
  std::string why;
};

[[noreturn]] void bad(std::string field, const toml::node& node, std::string why);

const toml::table& table_of(const toml::node& node, const std::string& field);
// Fails at the first key of `t` not in `known`, listing the known ones (typos fail the start).
void only_keys(const toml::table& t, const std::string& prefix,
               std::initializer_list<std::string_view> known);
std::string string_of(const toml::node& node, const std::string& field);
bool bool_of(const toml::node& node, const std::string& field);
std::int64_t int_of(const toml::node& node, const std::string& field, std::int64_t lo,
                    std::int64_t hi);
// A number: a float or an integer (NaN and infinities are refused).
double number_of(const toml::node& node, const std::string& field);
// "500ms", "90s", "10m", "1h30m" or an integer of seconds.
std::chrono::milliseconds duration_of(const toml::node& node, const std::string& field,
                                      bool allow_zero = false);
// 65536, "64KiB" or "16MiB".
std::size_t size_of(const toml::node& node, const std::string& field);

}  // namespace tiercache::server
