// stats, health and ratelimit: what the daemon reports about itself, and one rate-limit check
// or peek. (stats --redis: redis_commands.cpp.)

#include "cli/cache_commands.hpp"
#include "cli/commands.hpp"
#include "cli/text.hpp"

#include <boost/json/serialize.hpp>

#include <memory>
#include <ostream>

namespace tiercache::cli {
namespace {

namespace json = boost::json;

double number_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  return 0;
}

std::string string_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// --- stats --------------------------------------------------------------------------------

int stats(Context& ctx, const std::string& only) {
  if (ctx.redis_mode()) return redis_stats(ctx, only);
  auto r = ctx.call(http::verb::get, "/v1/stats");
  if (!r) return r.exit;
  auto v = ctx.parse_json(*r.reply);
  if (!v || !v->is_object()) return to_int(ExitCode::server_error);
  const auto& body = v->as_object();
  const auto* namespaces = body.if_contains("namespaces");
  if (namespaces == nullptr || !namespaces->is_object()) {
    return ctx.bad_reply("no \"namespaces\" object in /v1/stats");
  }
  const auto& all = namespaces->as_object();
  if (!only.empty() && !all.contains(only)) {
    std::string known;
    for (const auto& [name, _] : all) known += (known.empty() ? "" : ", ") + std::string(name);
    return ctx.fail(ExitCode::not_found, "no namespace '" + only +
                                             "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  if (ctx.json) {
    ctx.out << json::serialize(only.empty() ? *v : all.at(only)) << "\n";
    return to_int(ExitCode::ok);
  }
  Table t({"NAMESPACE", "HITS", "MISSES", "HIT RATE", "L1 HITS", "L2 HITS", "STALE", "ERRORS",
           "SETS", "DELETES", "L1 ENTRIES", "L1 BYTES"});
  for (const auto& [name, value] : all) {
    if (!only.empty() && name != only) continue;
    if (!value.is_object()) continue;
    const auto& o = value.as_object();
    t.add({std::string(name), std::to_string(count_of(o, "hits")),
           std::to_string(count_of(o, "misses")), percent(number_of(o, "hit_rate")),
           std::to_string(count_of(o, "hits_l1")), std::to_string(count_of(o, "hits_l2")),
           std::to_string(count_of(o, "stale_served")), std::to_string(count_of(o, "errors")),
           std::to_string(count_of(o, "sets")), std::to_string(count_of(o, "deletes")),
           std::to_string(count_of(o, "l1_entries")), human_bytes(count_of(o, "l1_bytes"))});
  }
  if (only.empty()) {
    t.add({"(all)", std::to_string(count_of(body, "hits")),
           std::to_string(count_of(body, "misses")), percent(number_of(body, "hit_rate")), "", "",
           "", std::to_string(count_of(body, "errors")), "", "", "", ""});
  }
  t.print(ctx.out);
  if (only.empty()) {
    ctx.out << "\nmode " << string_of(body, "mode") << ", up "
            << human_duration(std::chrono::seconds(count_of(body, "uptime_s"))) << "\n";
  }
  return to_int(ExitCode::ok);
}

// --- health -------------------------------------------------------------------------------

int health(Context& ctx) {
  auto r = ctx.call(http::verb::get, "/v1/health");
  if (!r) return r.exit;
  auto v = ctx.parse_json(*r.reply);
  if (!v || !v->is_object()) return to_int(ExitCode::server_error);
  const auto& body = v->as_object();
  const auto* h = body.if_contains("health");
  if (h == nullptr || !h->is_object()) return ctx.bad_reply("no \"health\" object in /v1/health");
  const auto& assessment = h->as_object();
  const std::string status = string_of(assessment, "status");
  const int code = status == "healthy"    ? to_int(ExitCode::ok)
                   : status == "degraded" ? to_int(ExitCode::refused)
                                          : to_int(ExitCode::unhealthy);
  if (ctx.json) {
    ctx.out << json::serialize(body) << "\n";
    return code;
  }
  ctx.out << "health  " << status << "\n";
  // Reasons: {severity, code, message}; the L1-only answer has issues only.
  const auto* reasons = assessment.if_contains("reasons");
  const auto* issues = assessment.if_contains("issues");
  std::vector<std::string> reason_lines;
  if (reasons != nullptr && reasons->is_array() && !reasons->as_array().empty()) {
    for (const auto& item : reasons->as_array()) {
      if (!item.is_object()) continue;
      const auto& o = item.as_object();
      reason_lines.push_back("[" + string_of(o, "severity") + "] " + string_of(o, "message") +
                             " (" + string_of(o, "code") + ")");
    }
  } else if (issues != nullptr && issues->is_array()) {
    for (const auto& item : issues->as_array()) {
      if (item.is_string()) reason_lines.emplace_back(item.as_string());
    }
  }
  ctx.out << "mode    " << string_of(body, "mode") << "\n";
  if (const auto* redis = body.if_contains("redis"); redis != nullptr && redis->is_object()) {
    const auto& o = redis->as_object();
    const auto* reachable = o.if_contains("reachable");
    ctx.out << "redis   "
            << (reachable != nullptr && reachable->is_bool() && reachable->as_bool()
                    ? "reachable"
                    : "unreachable");
    if (const auto* ping = o.if_contains("ping_ms"); ping != nullptr && !ping->is_null()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, ", ping %.2f ms", number_of(o, "ping_ms"));
      ctx.out << buf;
    }
    if (!string_of(o, "error").empty()) ctx.out << " (" << string_of(o, "error") << ")";
    ctx.out << "\n";
  }
  if (!string_of(body, "memory_used_human").empty()) {
    ctx.out << "memory  " << string_of(body, "memory_used_human") << " used, "
            << count_of(body, "total_keys") << " keys\n";
  }
  if (const auto* rate = body.if_contains("hit_rate"); rate != nullptr && !rate->is_null()) {
    ctx.out << "hits    " << percent(number_of(body, "hit_rate") / 100) << " of reads (Redis)\n";
  }
  if (reason_lines.empty()) {
    ctx.out << "reasons none\n";
  } else {
    ctx.out << "reasons:\n";
    for (const auto& line : reason_lines) ctx.out << "  " << line << "\n";
  }
  return code;
}

// --- ratelimit ----------------------------------------------------------------------------

struct RateLimitArgs {
  std::string name;
  std::string key;
  std::uint32_t cost = 1;
  bool peek = false;
};

int ratelimit(Context& ctx, const RateLimitArgs& a) {
  std::string target = "/v1/ratelimit/" + url_encode(a.name) + "?cost=" + std::to_string(a.cost);
  if (!a.key.empty()) target += "&key=" + url_encode(a.key);
  // POST spends; GET peeks (always 200: the answer is in the body).
  auto r = ctx.call(a.peek ? http::verb::get : http::verb::post, target, {}, {429});
  if (!r) return r.exit;
  bool allowed = r->status != 429;
  std::int64_t body_retry = 0;
  if (a.peek) {
    auto v = ctx.parse_json(*r.reply);
    if (!v) return to_int(ExitCode::server_error);
    const auto* o = v->if_object();
    const auto* member = o != nullptr ? o->if_contains("allowed") : nullptr;
    if (member == nullptr || !member->is_bool()) {
      return ctx.bad_reply("no \"allowed\" member: does this tiercached predate the peek?");
    }
    allowed = member->as_bool();
    body_retry = static_cast<std::int64_t>(number_of(*o, "retry_after_s"));
  }
  const auto header_number = [&](const std::string& name) -> std::int64_t {
    const auto text = r->header(name);
    try {
      return text.empty() ? 0 : std::stoll(text);
    } catch (const std::exception&) {
      return 0;
    }
  };
  const auto limit = header_number("ratelimit-limit");
  const auto remaining = header_number("ratelimit-remaining");
  const auto reset = header_number("ratelimit-reset");
  const auto retry = a.peek ? body_retry : header_number("retry-after");
  const bool degraded = r->header("x-ratelimit-degraded") == "true";
  if (ctx.json) {
    json::object o{{"name", a.name},         {"key", a.key.empty() ? "default" : a.key},
                   {"allowed", allowed},     {"limit", limit},
                   {"remaining", remaining}, {"reset_s", reset},
                   {"degraded", degraded},   {"peek", a.peek}};
    if (!allowed) o["retry_after_s"] = retry;
    ctx.out << json::serialize(o) << "\n";
  } else {
    ctx.out << (a.peek ? (allowed ? "would allow" : "would deny")
                       : (allowed ? "allowed" : "denied"))
            << "  " << remaining << " of " << limit << " left, window resets in " << reset << " s";
    if (!allowed) ctx.out << ", retry after " << retry << " s";
    if (degraded) ctx.out << " (degraded: decided without Redis)";
    ctx.out << "\n";
  }
  return allowed ? to_int(ExitCode::ok) : to_int(ExitCode::refused);
}

}  // namespace

void add_ops_commands(CLI::App& app, std::vector<Command>& out) {
  {
    auto only = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("stats", "hits, misses and hit rate per namespace");
    sub->add_option("namespace", *only, "only this namespace");
    sub->footer(
        "Examples:\n"
        "  tiercache stats\n"
        "  tiercache stats users\n"
        "  tiercache stats --json | jq .hit_rate\n"
        "  tiercache --redis redis://127.0.0.1:6379 stats   # Redis's figures, keys per namespace");
    out.push_back({sub, [only](Context& ctx) { return stats(ctx, *only); }, nullptr});
  }
  {
    auto* sub = app.add_subcommand("health", "the daemon's health assessment and its reasons");
    sub->footer(
        "Exit: 0 healthy, 6 degraded, 7 unhealthy (3 when the daemon does not answer).\n"
        "Examples:\n"
        "  tiercache health\n"
        "  tiercache health --json | jq -r '.health.reasons[].message'\n"
        "  until tiercache health >/dev/null; do sleep 5; done");
    out.push_back({sub, [](Context& ctx) { return health(ctx); },
                   "the assessment is the daemon's (its mode, breaker, L1); "
                   "'tiercache --redis URL stats' shows Redis's side"});
  }
  {
    auto args = std::make_shared<RateLimitArgs>();
    auto* sub = app.add_subcommand(
        "ratelimit", "spend units of a rate limit ([ratelimits.<name>]) and show what is left");
    sub->add_option("name", args->name, "the limit's name")->required();
    sub->add_option("-k,--key", args->key, "whose budget (a user, an IP); default: \"default\"");
    sub->add_option("-c,--cost", args->cost, "units to spend (default 1)")
        ->check(CLI::Range(1, 999'999'999));
    sub->add_flag("--peek", args->peek,
                  "spend nothing: what a check of --cost units would answer now");
    sub->footer(
        "Without --peek every call spends --cost units.\n"
        "Exit: 0 allowed (would be), 6 denied (would be: rate-limited), 1 no such limit.\n"
        "Examples:\n"
        "  tiercache ratelimit search --key user:42\n"
        "  tiercache ratelimit search --key user:42 --peek        # usage, nothing spent\n"
        "  tiercache ratelimit search --key 203.0.113.7 --cost 5 --json");
    out.push_back({sub, [args](Context& ctx) { return ratelimit(ctx, *args); },
                   "the limit's policy (limit, window, algorithm) is in tiercached's config"});
  }
}

}  // namespace tiercache::cli
