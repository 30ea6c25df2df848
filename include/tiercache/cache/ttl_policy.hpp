#pragma once
// TtlPolicy: how long a value stays fresh, and how long after that it may still be served stale
// (the grace window), by data type, adjusted by rules: shorter when the travel date is near,
// longer when it is far, by result count (seed 004 sections 2.3 and 3.2).
// Use: auto policy = TtlPolicy::from_toml_file("deploy/ttl-policy.example.toml");
//      Ttl t = policy->ttl_for("flight_search", {.date = parse_date("2025-06-01"), .results = 12});
// Thread-safety: build or load once; ttl_for() is const and safe from any thread.

#include "tiercache/base/clock.hpp"
#include "tiercache/base/result.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::cache {

using std::chrono::milliseconds;

// The answer: fresh for `fresh`, then servable as stale for `grace` (Redis TTL = fresh + grace).
struct Ttl {
  milliseconds fresh{};
  milliseconds grace{};
  friend bool operator==(const Ttl&, const Ttl&) = default;
};

// What a rule looks at: the days from today to the request's date, or the number of results.
enum class RuleKind : std::uint8_t { date, results };

// How rules of different kinds combine. multiply: the first matching rule of each kind applies and
// their multipliers multiply (near date and few results: both shorten). first: the first matching
// rule of any kind, in order, decides alone (seed 004's behaviour).
enum class Combine : std::uint8_t { multiply, first };

// Matches when `below` and `above` both hold: value < below, value > above (either may be unset,
// not both). Days count calendar days in UTC: 0 is today, 1 tomorrow, negative in the past.
struct TtlRule {
  RuleKind kind = RuleKind::date;
  std::optional<std::int64_t> below{};
  std::optional<std::int64_t> above{};
  double multiplier = 1.0;
};

struct TypeTtl {
  // Fresh for this long before rules. REQUIRES: > 0.
  milliseconds ttl{};
  // Servable stale for this long after; rules do not scale it. Default: the policy's grace, or
  // when that is unset too, `ttl` (as long again as it was fresh).
  std::optional<milliseconds> grace{};
  // Bounds on the fresh time after rules. Default: the policy's.
  std::optional<milliseconds> min{};
  std::optional<milliseconds> max{};
};

struct TtlInput {
  // The date the data is about (departure, check-in). Unset: date rules do not apply.
  std::optional<std::chrono::sys_days> date{};
  // How many results the answer holds. Unset: result rules do not apply.
  std::optional<std::size_t> results{};
};

// A configuration that could not be loaded: where, and why.
struct ConfigError {
  std::string field;  // "ttl.rules[2].multiplier"; empty for a TOML syntax error
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;  // "ttl.toml:14:1: ttl.rules[2].multiplier: must be a number > 0"
  error_code code{};    // cache::Errc::invalid_config
};

class TtlPolicy;
using TtlPolicyResult = boost::system::result<TtlPolicy, ConfigError>;

class TtlPolicy {
 public:
  // An empty table: every type gets `fallback`.
  explicit TtlPolicy(TypeTtl fallback, const Clock& clock = Clock::real());
  // Seed 004's table (flight search 10 min, hotel search 30 min, ..., default 30 min) and its
  // date and result-count rules for flight and hotel search, combined by multiplying.
  static TtlPolicy defaults(const Clock& clock = Clock::real());

  // Loads a `[ttl]` table (deploy/ttl-policy.example.toml explains every key). The file is
  // complete in itself: types it does not list get ttl.default. Fails with a ConfigError naming
  // the field and line; nothing is changed (the caller keeps the policy it has).
  [[nodiscard]] static TtlPolicyResult from_toml(std::string_view text,
                                                 std::string_view source_name = "ttl policy",
                                                 const Clock& clock = Clock::real());
  [[nodiscard]] static TtlPolicyResult from_toml_file(const std::string& path,
                                                      const Clock& clock = Clock::real());

  // REQUIRES: type.ttl > 0, grace >= 0, min <= max. Throws std::invalid_argument otherwise.
  TtlPolicy& set_type(std::string name, TypeTtl type);
  // Appends a rule for `type` (declared or not). REQUIRES: below or above set, multiplier > 0.
  TtlPolicy& add_rule(std::string_view type, TtlRule rule);
  TtlPolicy& set_combine(Combine combine) noexcept;
  TtlPolicy& set_grace(std::optional<milliseconds> grace) noexcept;
  TtlPolicy& set_bounds(std::optional<milliseconds> min, std::optional<milliseconds> max);

  // The fresh time and grace window for a value of `type` (unknown types get the fallback).
  // "Today" comes from the clock's wall time, in UTC.
  Ttl ttl_for(std::string_view type, const TtlInput& input = {}) const;

 private:
  struct Type {
    TypeTtl ttl;
    std::vector<TtlRule> rules;
  };
  const Type& type_of(std::string_view name) const;

  Type fallback_;
  std::map<std::string, Type, std::less<>> types_;
  Combine combine_ = Combine::multiply;
  std::optional<milliseconds> grace_;
  std::optional<milliseconds> min_;
  std::optional<milliseconds> max_;
  const Clock* clock_;
};

// "2025-06-01", or an ISO 8601 date-time whose first 10 characters are one; nullopt otherwise.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

// boost::system::result<T, ConfigError>::value() on an error throws std::runtime_error(message).
[[noreturn]] void throw_exception_from_error(const ConfigError& e, const boost::source_location&);

}  // namespace tiercache::cache
