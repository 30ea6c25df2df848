// get, set, del, ttl and invalidate: one key's value, and invalidation, over /v1/cache/{ns}/...
// (or, with --redis, through redis_commands.cpp), and the printers both sources share.

#include "cli/cache_commands.hpp"

#include "tiercache/base/json_text.hpp"

#include "cli/commands.hpp"
#include "cli/text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>

namespace tiercache::cli {
namespace {

namespace json = boost::json;

std::string key_path(const std::string& ns, const std::string& key) {
  return "/v1/cache/" + url_encode(ns) + "/" + url_encode(key);
}

// A JSON member as an integer, or `otherwise`.
std::int64_t int_of(const json::object& o, std::string_view name, std::int64_t otherwise = 0) {
  const auto* v = o.if_contains(name);
  if (v == nullptr) return otherwise;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return otherwise;
}

std::string seconds_text(std::int64_t ms) { return human_duration(std::chrono::milliseconds(ms)); }

CLI::App* add_key_command(CLI::App& app, const char* name, const char* description, KeyArgs& args) {
  auto* sub = app.add_subcommand(name, description);
  sub->add_option("namespace", args.ns, "the namespace, as configured ([namespaces.<name>])")
      ->required();
  sub->add_option("key", args.key, "the key (1-1024 bytes)")->required();
  return sub;
}

// --- get ----------------------------------------------------------------------------------

int get(Context& ctx, const KeyArgs& a) {
  if (ctx.redis_mode()) return redis_get(ctx, a);
  auto r = ctx.client().request(http::verb::get, key_path(a.ns, a.key));
  if (!r) return ctx.unreachable(r.error());
  if (r->status == 404 && r->header("x-cache") == "MISS") return print_miss(ctx, a);
  if (r->status != 200) return ctx.refused(*r);
  FoundValue v{.body = std::move(r->body),
               .content_type = r->header("content-type"),
               .cache = r->header("x-cache"),
               .tier = r->header("x-cache-tier"),
               .etag = r->header("etag"),
               .degraded = r->header("x-cache-degraded") == "true"};
  if (ctx.json) {
    // The TTL is a second read; a key gone between the two reads just has no ttl.
    auto t = ctx.client().request(http::verb::get, key_path(a.ns, a.key) + "/ttl");
    if (t && t->status == 200) {
      boost::system::error_code ec;
      const auto o = json::parse(t->body, ec);
      if (!ec && o.is_object()) {
        const auto* stale = o.as_object().if_contains("stale");
        v.ttl = TtlInfo{.ttl_ms = int_of(o.as_object(), "ttl_ms"),
                        .fresh_ms = int_of(o.as_object(), "fresh_ms"),
                        .stale = stale != nullptr && stale->is_bool() && stale->as_bool()};
      }
    }
  }
  return print_value(ctx, a, v);
}

// --- set ----------------------------------------------------------------------------------

int set(Context& ctx, const SetArgs& a) {
  if (ctx.redis_mode()) return redis_set(ctx, a);
  auto value = read_set_value(ctx, a);
  if (!value) return to_int(ExitCode::usage);
  std::string query;
  const auto param = [&](const std::string& name, const std::string& v) {
    query += (query.empty() ? "?" : "&") + name + "=" + url_encode(v);
  };
  if (!a.ttl.empty()) param("ttl", a.ttl);
  if (!a.grace.empty()) param("grace", a.grace);
  if (!a.priority.empty()) param("priority", a.priority);
  for (const auto& t : a.tags) param("tag", t);
  std::vector<std::pair<std::string, std::string>> headers;
  if (!a.content_type.empty()) headers.emplace_back("Content-Type", a.content_type);
  const auto size = value->size();
  auto r = ctx.call(http::verb::put, key_path(a.key.ns, a.key.key) + query, std::move(*value), {},
                    headers);
  if (!r) return r.exit;
  return print_stored(ctx, a.key, size);
}

// --- del ----------------------------------------------------------------------------------

int del(Context& ctx, const KeyArgs& a) {
  if (ctx.redis_mode()) return redis_del(ctx, a);
  auto r = ctx.call(http::verb::delete_, key_path(a.ns, a.key));
  if (!r) return r.exit;
  auto v = ctx.parse_json(*r.reply);
  if (!v) return to_int(ExitCode::server_error);
  const auto* deleted = v->is_object() ? v->as_object().if_contains("deleted") : nullptr;
  if (deleted == nullptr || !deleted->is_bool()) return ctx.bad_reply("no \"deleted\" member");
  return print_deleted(ctx, a, deleted->as_bool());
}

// --- ttl ----------------------------------------------------------------------------------

int ttl(Context& ctx, const KeyArgs& a) {
  if (ctx.redis_mode()) return redis_ttl(ctx, a);
  auto r = ctx.client().request(http::verb::get, key_path(a.ns, a.key) + "/ttl");
  if (!r) return ctx.unreachable(r.error());
  if (r->status == 404) {
    boost::system::error_code ec;
    const auto v = json::parse(r->body, ec);
    const bool miss = !ec && v.is_object() && v.as_object().if_contains("error") != nullptr &&
                      json::serialize(v).find("key_not_found") != std::string::npos;
    if (miss) return print_miss(ctx, a);
  }
  if (r->status != 200) return ctx.refused(*r);
  auto v = ctx.parse_json(*r);
  if (!v || !v->is_object()) return to_int(ExitCode::server_error);
  const auto& o = v->as_object();
  const auto ttl_ms = int_of(o, "ttl_ms", -1);
  const auto fresh_ms = int_of(o, "fresh_ms", -1);
  if (ttl_ms < 0 || fresh_ms < 0) return ctx.bad_reply("no ttl_ms/fresh_ms members");
  const auto* stale = o.if_contains("stale");
  return print_ttl(ctx, a,
                   TtlInfo{.ttl_ms = ttl_ms,
                           .fresh_ms = fresh_ms,
                           .stale = stale != nullptr && stale->is_bool() && stale->as_bool()});
}

// --- invalidate ---------------------------------------------------------------------------

int invalidate(Context& ctx, const InvalidateArgs& a) {
  if (a.keys.empty() && a.tags.empty() && a.pattern.empty() && !a.all) {
    return ctx.fail(ExitCode::usage,
                    "invalidate: name what to invalidate: --key, --tag, --pattern or --all\n"
                    "Run 'tiercache invalidate --help' for usage.");
  }
  if (ctx.redis_mode()) return redis_invalidate(ctx, a);
  json::object body;
  if (!a.keys.empty()) body["keys"] = json::value_from(a.keys);
  if (!a.tags.empty()) body["tags"] = json::value_from(a.tags);
  if (!a.pattern.empty()) body["pattern"] = a.pattern;
  if (a.all) body["all"] = true;
  auto r = ctx.call(http::verb::post, "/v1/cache/" + url_encode(a.ns) + "/invalidate",
                    json::serialize(body), {}, {{"Content-Type", "application/json"}});
  if (!r) return r.exit;
  auto v = ctx.parse_json(*r.reply);
  if (!v || !v->is_object()) return to_int(ExitCode::server_error);
  return print_invalidated(ctx, a, v->as_object());
}

}  // namespace

// --- the printers, shared with redis_commands.cpp -----------------------------------------

std::optional<std::string> read_set_value(Context& ctx, const SetArgs& a) {
  std::string value;
  if (!a.file.empty()) {
    std::ifstream f(a.file, std::ios::binary);
    if (!f) {
      ctx.fail(ExitCode::usage, "cannot read --file '" + a.file + "'");
      return std::nullopt;
    }
    value.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } else if (a.value && *a.value != "-") {
    value = *a.value;
  } else {
    if (ctx.terminal.stdin_tty) {
      ctx.err << "tiercache: reading the value from stdin (end with Ctrl-D)\n";
    }
    value.assign(std::istreambuf_iterator<char>(ctx.in), std::istreambuf_iterator<char>());
  }
  return value;
}

int print_value(Context& ctx, const KeyArgs& a, const FoundValue& v) {
  if (!ctx.json) {
    ctx.out << v.body;  // the bytes exactly: no newline added for pipes and files
    // On a terminal, a value without a final newline would run into the prompt.
    if (ctx.terminal.stdout_tty && !v.body.empty() && v.body.back() != '\n') ctx.out << "\n";
    return to_int(ExitCode::ok);
  }
  json::object o{{"found", true}, {"namespace", a.ns}, {"key", a.key}};
  if (is_valid_utf8(v.body)) {
    o["value"] = v.body;
  } else {
    o["value_base64"] = base64_encode(v.body);
  }
  o["content_type"] = v.content_type;
  o["cache"] = v.cache;
  o["tier"] = v.tier;
  if (!v.etag.empty()) o["etag"] = v.etag;
  o["degraded"] = v.degraded;
  if (v.ttl) {
    o["ttl_ms"] = v.ttl->ttl_ms;
    o["fresh_ms"] = v.ttl->fresh_ms;
    o["stale"] = v.ttl->stale;
  }
  ctx.out << json::serialize(o) << "\n";
  return to_int(ExitCode::ok);
}

int print_miss(Context& ctx, const KeyArgs& a) {
  if (ctx.json) {
    ctx.out << json::serialize(json::object{{"found", false}, {"namespace", a.ns}, {"key", a.key}})
            << "\n";
  } else {
    ctx.err << "tiercache: " << a.ns << "/" << a.key << ": not found (a miss)\n";
  }
  return to_int(ExitCode::not_found);
}

int print_stored(Context& ctx, const KeyArgs& a, std::size_t bytes) {
  if (ctx.json) {
    json::object o{{"stored", true}, {"namespace", a.ns}, {"key", a.key}, {"bytes", bytes}};
    ctx.out << json::serialize(o) << "\n";
  } else {
    ctx.out << "stored " << a.ns << "/" << a.key << " (" << bytes << " bytes)\n";
  }
  return to_int(ExitCode::ok);
}

int print_deleted(Context& ctx, const KeyArgs& a, bool deleted) {
  if (ctx.json) {
    json::object o{{"deleted", deleted}, {"namespace", a.ns}, {"key", a.key}};
    ctx.out << json::serialize(o) << "\n";
  } else if (deleted) {
    ctx.out << "deleted " << a.ns << "/" << a.key << "\n";
  } else {
    ctx.err << "tiercache: " << a.ns << "/" << a.key << ": not found (nothing deleted)\n";
  }
  return deleted ? to_int(ExitCode::ok) : to_int(ExitCode::not_found);
}

int print_ttl(Context& ctx, const KeyArgs& a, const TtlInfo& t) {
  if (ctx.json) {
    json::object out{{"found", true},      {"namespace", a.ns},      {"key", a.key},
                     {"ttl_ms", t.ttl_ms}, {"fresh_ms", t.fresh_ms}, {"stale", t.stale}};
    ctx.out << json::serialize(out) << "\n";
  } else {
    Table table({"KEY", "FRESH FOR", "GONE AFTER", "STATE"});
    table.add({a.ns + "/" + a.key, seconds_text(t.fresh_ms), seconds_text(t.ttl_ms),
               t.stale ? "stale" : "fresh"});
    table.print(ctx.out);
  }
  return to_int(ExitCode::ok);
}

int print_invalidated(Context& ctx, const InvalidateArgs& a, const json::object& o) {
  if (ctx.json) {
    ctx.out << json::serialize(o) << "\n";
    return to_int(ExitCode::ok);
  }
  Table t({"INVALIDATED", "COUNT"});
  if (o.contains("keys_deleted")) {
    t.add({"keys deleted", std::to_string(int_of(o, "keys_deleted"))});
  }
  if (o.contains("tags_invalidated")) {
    t.add({"tags invalidated", std::to_string(int_of(o, "tags_invalidated"))});
  }
  if (o.contains("pattern_removed")) {
    t.add({"keys matching the pattern", std::to_string(int_of(o, "pattern_removed"))});
  }
  if (o.contains("namespace_invalidated")) t.add({"namespace " + a.ns, "all"});
  t.print(ctx.out);
  return to_int(ExitCode::ok);
}

void add_cache_commands(CLI::App& app, std::vector<Command>& out) {
  {
    auto args = std::make_shared<KeyArgs>();
    auto* sub = add_key_command(app, "get", "print a value (its bytes exactly) to stdout", *args);
    sub->footer(
        "Exit: 0 found, 1 a miss.\n"
        "Examples:\n"
        "  tiercache get users alice\n"
        "  tiercache get users alice --json    # {found, value, content_type, ttl_ms, ...}\n"
        "  tiercache get img logo > logo.png\n"
        "  tiercache --redis redis://127.0.0.1:6379 get users alice   # from Redis, no daemon");
    out.push_back({sub, [args](Context& ctx) { return get(ctx, *args); }, nullptr});
  }
  {
    auto args = std::make_shared<SetArgs>();
    auto* sub = add_key_command(app, "set", "store a value", args->key);
    auto* value =
        sub->add_option("value", args->value, "the value; absent or '-': read from stdin");
    sub->add_option("-f,--file", args->file, "read the value from this file")
        ->excludes(value)
        ->check(CLI::ExistingFile);
    sub->add_option("--ttl", args->ttl,
                    "fresh for this long (90s, 10m, 1h30m); default: the "
                    "namespace's default_ttl");
    sub->add_option("--grace", args->grace,
                    "served stale this long after the TTL (while refreshed)");
    sub->add_option("--tag", args->tags, "a tag, for invalidate --tag (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--priority", args->priority, "eviction priority: low, normal or high")
        ->check(CLI::IsMember({"low", "normal", "high"}));
    sub->add_option("--content-type", args->content_type,
                    "the value's media type (application/json values are stored as JSON)");
    sub->footer(
        "Examples:\n"
        "  tiercache set users alice '{\"name\":\"Alice\"}' --ttl 10m --tag team:red\n"
        "  tiercache set img logo --file logo.png --content-type image/png --priority high\n"
        "  curl -s https://example.org/feed | tiercache set feeds main --ttl 1m\n"
        "With --redis, a TTL not given is the library's 5m (grace 1m), not the namespace's\n"
        "default_ttl in tiercached.toml.");
    out.push_back({sub, [args](Context& ctx) { return set(ctx, *args); }, nullptr});
  }
  {
    auto args = std::make_shared<KeyArgs>();
    auto* sub = add_key_command(app, "del", "delete a key", *args);
    sub->footer(
        "Exit: 0 deleted, 1 there was no such key.\n"
        "Example:\n"
        "  tiercache del users alice");
    out.push_back({sub, [args](Context& ctx) { return del(ctx, *args); }, nullptr});
  }
  {
    auto args = std::make_shared<KeyArgs>();
    auto* sub =
        add_key_command(app, "ttl", "how long a value stays fresh, and when it goes", *args);
    sub->footer(
        "Exit: 0 found, 1 a miss.\n"
        "Examples:\n"
        "  tiercache ttl users alice\n"
        "  tiercache ttl users alice --json    # {ttl_ms, fresh_ms, stale}");
    out.push_back({sub, [args](Context& ctx) { return ttl(ctx, *args); }, nullptr});
  }
  {
    auto args = std::make_shared<InvalidateArgs>();
    auto* sub = app.add_subcommand("invalidate", "invalidate keys, tags, a pattern or a namespace");
    sub->add_option("namespace", args->ns, "the namespace")->required();
    sub->add_option("-k,--key", args->keys, "a key (repeatable)")->allow_extra_args(false);
    sub->add_option("--tag", args->tags, "every entry with this tag (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("-p,--pattern", args->pattern, "keys matching this glob (user:*)");
    sub->add_flag("--all", args->all, "the whole namespace");
    sub->footer(
        "Examples:\n"
        "  tiercache invalidate users --key alice --key bob\n"
        "  tiercache invalidate users --tag team:red\n"
        "  tiercache invalidate users --pattern 'session:*'\n"
        "  tiercache invalidate users --all");
    out.push_back({sub, [args](Context& ctx) { return invalidate(ctx, *args); }, nullptr});
  }
}

}  // namespace tiercache::cli
