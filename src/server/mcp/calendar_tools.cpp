// The calendar tools. Each handler is a named coroutine taking its arguments by value; the
// registry holds a non-coroutine lambda that calls it. The schemas are checked before a handler
// runs (tool.cpp); here every field is read with the calendar's own parsers first, so a refusal
// names the argument ("'from' is not a date ...") rather than the library's generic reason, and
// a store is checked whole with calendar::store_problem() before anything is written.

#include "server/mcp/calendar_tools.hpp"

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/calendar/error.hpp"

#include "server/api_error.hpp"
#include "server/http_types.hpp"
#include "server/proxy/proxy.hpp"
#include "server/reply.hpp"
#include "server/units.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <variant>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;
using calendar::CalendarCache;
using calendar::DateRange;
using calendar::Day;

// Days one calendar_warm may load: one upstream request per location and day.
constexpr std::int64_t kMaxWarmDays = 31;
// Locations calendar_stats lists as the most asked.
constexpr std::size_t kStatsTopLocations = 10;

json::object schema(std::string_view text) { return json::parse(text).as_object(); }

json::object object_schema(std::string_view properties, std::string_view required) {
  return schema(std::string(R"({"type": "object", "properties": {)") + std::string(properties) +
                "}, \"required\": [" + std::string(required) +
                "], \"additionalProperties\": false}");
}

// A library failure as the model reads it: "<tool>: <code>: <why>".
ToolResult failed(std::string_view tool, boost::system::error_code ec) {
  if (ec.category() == calendar::category()) {
    return ToolResult::error(std::string(tool) + ": " + ec.message());
  }
  const ApiError e = from_error_code(ec);
  return ToolResult::error(std::string(tool) + ": " + e.code + ": " + e.message);
}

// The daemon's calendar, or the error result saying why there is none.
std::variant<CalendarCache*, ToolResult> calendar_of(std::string_view tool,
                                                     const Services& services) {
  if (services.calendar != nullptr) return services.calendar;
  std::string why;
  if (services.config != nullptr && !services.config->calendar.enabled) {
    why = "it is turned off in tiercached's configuration ([calendar] enabled = false)";
  } else if (services.redis_mode == RedisMode::not_configured) {
    why =
        "the calendar keeps its events in Redis, and tiercached runs without Redis (set "
        "[redis] url or REDIS_URL)";
  } else if (services.redis_mode == RedisMode::unreachable) {
    why =
        "the calendar keeps its events in Redis, and Redis was unreachable when tiercached "
        "started (it runs on its in-process tier alone until restarted)";
  } else {
    why = "tiercached is shutting down";
  }
  return ToolResult::error(std::string(tool) + ": the calendar is not available: " + why);
}

// Argument readers: each answers the value or a sentence naming the argument.
struct Problem {
  std::string why;
};
template <class T>
using Read = std::variant<T, Problem>;

Read<std::string> read_location(const CalendarCache& cal, const json::object& args) {
  const std::string_view text = args.at("location").as_string();
  auto r = cal.normalize_location(text);
  if (!r) {
    return Problem{
        "'location' must be a place name such as \"Paris\" or \"Lyon, France\": not empty, at "
        "most " +
        std::to_string(cal.options().max_location_size) + " bytes, no control characters"};
  }
  return std::move(*r);
}

Read<Day> read_day(const json::object& args, std::string_view name) {
  const std::string_view text = args.at(name).as_string();
  auto r = calendar::parse_day(text);
  if (!r) {
    return Problem{"'" + std::string(name) + "' is \"" + std::string(text) +
                   "\", not a date: write YYYY-MM-DD, as \"2026-05-01\""};
  }
  return *r;
}

Read<DateRange> read_range(const CalendarCache& cal, const json::object& args,
                           std::int64_t max_days) {
  auto from = read_day(args, "from");
  if (auto* why = std::get_if<Problem>(&from)) return std::move(*why);
  auto to = read_day(args, "to");
  if (auto* why = std::get_if<Problem>(&to)) return std::move(*why);
  const DateRange range{std::get<Day>(from), std::get<Day>(to)};
  if (range.to < range.from) {
    return Problem{"'to' (" + calendar::format_day(range.to) + ") is before 'from' (" +
                   calendar::format_day(range.from) +
                   "): both days are included, so a single day is "
                   "from = to"};
  }
  max_days = std::min<std::int64_t>(max_days, cal.options().max_range_days);
  if (range.days() > max_days) {
    return Problem{"the range spans " + std::to_string(range.days()) + " days; ask for at most " +
                   std::to_string(max_days) + " at a time"};
  }
  return range;
}

std::vector<std::string> read_categories(const json::object& args) {
  std::vector<std::string> out;
  if (const auto* v = args.if_contains("categories")) {
    for (const auto& c : v->as_array()) out.emplace_back(c.as_string());
  }
  return out;
}

Read<calendar::TimePoint> read_time(const json::object& args, std::string_view name,
                                    calendar::TimePoint fallback) {
  const auto* v = args.if_contains(name);
  if (v == nullptr) return fallback;
  auto r = calendar::parse_time(v->as_string());
  if (!r) {
    return Problem{
        "'" + std::string(name) + "' is \"" + std::string(v->as_string()) +
        "\", not an ISO-8601 instant: write \"2026-05-01T18:00:00Z\", or a day \"2026-05-01\""};
  }
  return *r;
}

// ttl and priority of a store (calendar_store_events, calendar_warm).
Read<calendar::StoreOptions> read_store_options(const CalendarCache& cal,
                                                const json::object& args) {
  calendar::StoreOptions options;
  options.categories = read_categories(args);
  if (const auto* v = args.if_contains("ttl")) {
    const auto ttl = parse_duration(v->as_string());
    if (!ttl || ttl->count() <= 0 || *ttl > cal.options().max_ttl) {
      return Problem{
          "'ttl' is \"" + std::string(v->as_string()) +
          "\": give a duration such as \"90m\", \"6h\" or \"2d\", above zero and at most " +
          format_duration(cal.options().max_ttl)};
    }
    options.ttl = *ttl;
  }
  if (const auto* v = args.if_contains("priority")) {
    const std::string_view p = v->as_string();
    options.priority = p == "low"    ? cache::Priority::low
                       : p == "high" ? cache::Priority::high
                                     : cache::Priority::normal;
  }
  return options;
}

json::array day_list(const std::vector<Day>& days) {
  json::array out;
  for (const auto d : days) out.emplace_back(calendar::format_day(d));
  return out;
}

json::array string_list(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

json::array event_list(const std::vector<calendar::Event>& events) {
  json::array out;
  for (const auto& e : events) out.emplace_back(calendar::to_json(e));
  return out;
}

// Unwraps a Read<T>: `var` is assigned, or the handler returns the error result.
#define TC_READ(var, tool, expr)                                                 \
  auto var##_read = (expr);                                                      \
  if (auto* why = std::get_if<Problem>(&var##_read)) {                           \
    co_return ToolResult::error(std::string(tool) + ": " + std::move(why->why)); \
  }                                                                              \
  auto var = std::get<0>(std::move(var##_read))

#define TC_CALENDAR(cal, tool)                                                  \
  auto cal##_found = calendar_of(tool, services);                               \
  if (auto* r = std::get_if<ToolResult>(&cal##_found)) co_return std::move(*r); \
  CalendarCache& cal = *std::get<CalendarCache*>(cal##_found)

asio::awaitable<ToolResult> store_events(Services& services, json::object args) {
  constexpr std::string_view tool = "calendar_store_events";
  TC_CALENDAR(cal, tool);
  TC_READ(location, tool, read_location(cal, args));
  TC_READ(range, tool, read_range(cal, args, cal.options().max_range_days));
  TC_READ(options, tool, read_store_options(cal, args));
  std::string why;
  auto events = calendar::events_from_json(args.at("events"), &why);
  if (!events) {
    co_return ToolResult::error(std::string(tool) + ": 'events' " +
                                (why.empty() ? events.error().message() : why) +
                                "; each event is {\"id\": \"e1\", \"title\": \"Jazz night\", "
                                "\"start\": \"2026-05-03T19:30:00Z\"} with optional end, "
                                "categories, score and details");
  }
  if (auto problem = calendar::store_problem(cal.options(), location, range, *events, options)) {
    co_return ToolResult::error(std::string(tool) + ": " + *problem + "; nothing was stored");
  }
  const auto ttl = options.ttl.value_or(cal.options().default_ttl);
  const auto categories = options.categories;
  auto stored = co_await cal.store(location, range, std::move(*events), std::move(options));
  if (!stored) co_return failed(tool, stored.error());
  co_return ToolResult::ok({{"location", location},
                            {"from", calendar::format_day(range.from)},
                            {"to", calendar::format_day(range.to)},
                            {"categories", string_list(categories)},
                            {"stored", *stored},
                            {"ttl_ms", ttl.count()}});
}

asio::awaitable<ToolResult> get_events(Services& services, json::object args) {
  constexpr std::string_view tool = "calendar_get_events";
  TC_CALENDAR(cal, tool);
  TC_READ(location, tool, read_location(cal, args));
  TC_READ(range, tool, read_range(cal, args, cal.options().max_range_days));
  auto r = co_await cal.get(location, range, read_categories(args));
  if (!r) co_return failed(tool, r.error());
  json::object out{{"location", r->location},
                   {"from", calendar::format_day(range.from)},
                   {"to", calendar::format_day(range.to)},
                   {"hit", r->hit}};
  if (r->hit) {
    out["count"] = r->events.size();
    out["events"] = event_list(r->events);
  } else {
    out["missing_days"] = day_list(r->missing_days);
    out["hint"] =
        "Not cached for these days: fetch the events of the missing days (or of the whole range) "
        "from their source, then store them with calendar_store_events for this location and "
        "range.";
  }
  co_return ToolResult::ok(std::move(out));
}

asio::awaitable<ToolResult> top_events(Services& services, json::object args) {
  constexpr std::string_view tool = "calendar_top_events";
  TC_CALENDAR(cal, tool);
  TC_READ(location, tool, read_location(cal, args));
  TC_READ(day, tool, read_day(args, "day"));
  const auto n = static_cast<std::size_t>(args.at("n").to_number<std::int64_t>());
  std::string by = "start";
  if (const auto* v = args.if_contains("by")) by = v->as_string();
  const auto ranking = by == "score" ? calendar::Ranking::score : calendar::Ranking::start_time;
  auto r = co_await cal.top_events(location, day, n, ranking);
  if (!r) co_return failed(tool, r.error());
  co_return ToolResult::ok({{"location", r->location},
                            {"day", calendar::format_day(day)},
                            {"by", by},
                            {"covered", r->covered},
                            {"events", event_list(r->events)}});
}

asio::awaitable<ToolResult> invalidate(Services& services, json::object args) {
  constexpr std::string_view tool = "calendar_invalidate";
  TC_CALENDAR(cal, tool);
  TC_READ(location, tool, read_location(cal, args));
  const bool has_from = args.contains("from");
  if (has_from != args.contains("to")) {
    co_return ToolResult::error(
        std::string(tool) +
        ": give both 'from' and 'to' (a range of days, both included; from = to for one day), "
        "or neither to forget the whole location");
  }
  if (!has_from) {
    auto r = co_await cal.invalidate_location(location);
    if (!r) co_return failed(tool, r.error());
    co_return ToolResult::ok({{"location", location}, {"invalidated", "location"}});
  }
  TC_READ(range, tool, read_range(cal, args, cal.options().max_range_days));
  auto r = co_await cal.invalidate_range(location, range);
  if (!r) co_return failed(tool, r.error());
  co_return ToolResult::ok({{"location", location},
                            {"invalidated", "range"},
                            {"from", calendar::format_day(range.from)},
                            {"to", calendar::format_day(range.to)}});
}

asio::awaitable<ToolResult> history(Services& services, json::object args) {
  constexpr std::string_view tool = "calendar_history";
  TC_CALENDAR(cal, tool);
  TC_READ(location, tool, read_location(cal, args));
  TC_READ(since, tool, read_time(args, "since", calendar::TimePoint{}));
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  TC_READ(until, tool, read_time(args, "until", now));
  if (until < since) {
    co_return ToolResult::error(std::string(tool) + ": 'until' is before 'since'");
  }
  std::size_t limit = 100;
  if (const auto* v = args.if_contains("limit")) {
    limit = static_cast<std::size_t>(v->to_number<std::int64_t>());
  }
  auto r = co_await cal.history(location, since, until, limit);
  if (!r) co_return failed(tool, r.error());
  json::array entries;
  for (const auto& h : *r) {
    json::object e{{"id", h.id},         {"at", calendar::format_time(h.at)},
                   {"op", h.op},         {"categories", string_list(h.categories)},
                   {"events", h.events}, {"event_ids", string_list(h.event_ids)}};
    if (h.range) {
      e["from"] = calendar::format_day(h.range->from);
      e["to"] = calendar::format_day(h.range->to);
    }
    if (h.op == "store") e["ttl_ms"] = h.ttl_ms;
    entries.push_back(std::move(e));
  }
  co_return ToolResult::ok({{"location", location},
                            {"since", calendar::format_time(since)},
                            {"until", calendar::format_time(until)},
                            {"count", entries.size()},
                            {"entries", std::move(entries)}});
}

asio::awaitable<ToolResult> daily_summary(Services& services, json::object args) {
  constexpr std::string_view tool = "calendar_daily_summary";
  TC_CALENDAR(cal, tool);
  TC_READ(location, tool, read_location(cal, args));
  TC_READ(day, tool, read_day(args, "day"));
  auto r = co_await cal.daily_summary(location, day);
  if (!r) co_return failed(tool, r.error());
  json::object out{
      {"location", location}, {"day", calendar::format_day(day)}, {"found", r->has_value()}};
  if (*r) {
    out["summary"] = calendar::to_json(**r);
  } else {
    out["hint"] =
        "Nothing of this day is cached: store its events with calendar_store_events first.";
  }
  co_return ToolResult::ok(std::move(out));
}

asio::awaitable<ToolResult> stats(Services& services, json::object /*args*/) {
  constexpr std::string_view tool = "calendar_stats";
  TC_CALENDAR(cal, tool);
  auto s = co_await cal.stats();
  if (!s) co_return failed(tool, s.error());
  json::object out{{"prefix", cal.options().prefix},
                   {"hits", s->hits},
                   {"misses", s->misses},
                   {"hit_rate", s->hit_rate()},
                   {"stores", s->stores},
                   {"events_stored", s->events_stored},
                   {"invalidations", s->invalidations},
                   {"warm_loads", s->warm_loads},
                   {"cleanup_runs", s->cleanup_runs},
                   {"locations", s->locations},
                   {"estimated_bytes", s->estimated_bytes},
                   {"sampled_locations", s->sampled_locations},
                   {"default_ttl_ms", cal.options().default_ttl.count()},
                   {"max_range_days", cal.options().max_range_days},
                   {"invalidation_channel", cal.options().invalidation_channel},
                   {"day_views", json::object{{"hits", s->day_view_hits},
                                              {"misses", s->day_view_misses},
                                              {"evictions", s->day_view_evictions},
                                              {"bytes", s->day_view_bytes},
                                              {"entries", s->day_view_entries}}}};
  json::array popular;
  if (auto top = co_await cal.popular_locations(kStatsTopLocations)) {
    for (const auto& p : *top)
      popular.push_back(json::object{{"location", p.location}, {"gets", p.gets}});
  }
  out["popular_locations"] = std::move(popular);
  co_return ToolResult::ok(std::move(out));
}

// --- calendar_warm: the loader goes through the caching proxy's warm_route. ---

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto ch = static_cast<unsigned char>(c);
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// The events of one upstream answer: {"events": [{"id", "title", "start", "category"?,
// "categories"?, "score"?, "end"?, ...}]} (examples/demo_upstream.cpp's /events). A singular
// "category" becomes the event's categories.
std::vector<calendar::Event> events_of_body(const std::string& body, const std::string& target) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  json::array* list = nullptr;
  if (!ec && doc.is_object()) {
    if (auto* v = doc.as_object().if_contains("events"); v != nullptr && v->is_array()) {
      list = &v->as_array();
    }
  }
  if (list == nullptr) {
    throw std::runtime_error("GET " + target + " did not answer a JSON object with \"events\"");
  }
  std::vector<calendar::Event> out;
  for (auto& item : *list) {
    if (auto* o = item.if_object()) {
      if (auto* c = o->if_contains("category"); c != nullptr && c->is_string()) {
        if (!o->contains("categories")) (*o)["categories"] = json::array{*c};
        o->erase("category");
      }
    }
    std::string why;
    auto e = calendar::event_from_json(item, &why);
    if (!e) throw std::runtime_error("GET " + target + ": an event is malformed: " + why);
    out.push_back(std::move(*e));
  }
  return out;
}

// Reasons of the locations that failed, by location: the library keeps only the error code.
struct WarmFailures {
  std::mutex mu;
  std::map<std::string, std::string> why;
};

// One GET per day of the range through the proxy, so the upstream answers are cached (and
// shared with REST clients of the same route) as any other proxied request.
asio::awaitable<Result<std::vector<calendar::Event>>> load_through_proxy(
    Services* services, std::string prefix, std::shared_ptr<WarmFailures> failures,
    std::shared_ptr<CallContext> call, std::string location, DateRange range) {
  std::vector<calendar::Event> events;
  std::string why;
  for (Day d = range.from; d <= range.to && why.empty(); d += std::chrono::days(1)) {
    if (call->cancelled()) {
      why = "cancelled by the client before every day was loaded";
      break;
    }
    const std::string target =
        prefix + "?location=" + percent_encode(location) + "&date=" + calendar::format_day(d);
    proxy::Proxy* px = services->proxy;
    const proxy::Route* route = px != nullptr ? px->route_for(target) : nullptr;
    if (route == nullptr) {
      why = "no proxy route serves " + target + " (tiercached may be shutting down)";
      break;
    }
    Request req{http::verb::get, target, 11};
    req.set(http::field::host, "tiercached");
    req.set(http::field::accept, "application/json");
    const Response res = to_message(co_await px->handle(std::move(req), *route));
    if (res.result() != http::status::ok) {
      why = "GET " + target + " answered " + std::to_string(res.result_int());
      break;
    }
    try {
      auto day_events = events_of_body(res.body(), target);
      for (auto& e : day_events) events.push_back(std::move(e));
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  if (!why.empty()) {
    {
      std::lock_guard lock(failures->mu);
      failures->why[location] = why;
    }
    co_return calendar::Errc::loader_failed;
  }
  co_return events;
}

// The prefix of the [calendar] warm_route, or the reason there is none.
Read<std::string> warm_prefix(const Services& services) {
  const std::string name = services.config != nullptr ? services.config->calendar.warm_route : "";
  if (name.empty()) {
    return Problem{std::string(
        "no events source is configured: set [calendar] warm_route to the name of a "
        "[proxy.routes.<name>] whose upstream answers GET <prefix>?location=L&date=YYYY-MM-DD "
        "with {\"events\": [...]}; until then, load events yourself and store them with "
        "calendar_store_events")};
  }
  for (const auto& route : services.config->proxy.routes) {
    if (route.name == name) return route.prefix.empty() ? "/" + route.name : route.prefix;
  }
  return Problem{"[calendar] warm_route names '" + name +
                 "', which is not a configured proxy route"};
}

// calendar_warm reports progress after each location ("2/5 locations: paris loaded") and stops
// between locations, and between a location's upstream requests, once the client cancels.
asio::awaitable<ToolResult> warm(Services& services, json::object args,
                                 std::shared_ptr<CallContext> call) {
  constexpr std::string_view tool = "calendar_warm";
  TC_CALENDAR(cal, tool);
  TC_READ(prefix, tool, warm_prefix(services));
  TC_READ(range, tool, read_range(cal, args, kMaxWarmDays));
  TC_READ(options, tool, read_store_options(cal, args));
  const auto n = static_cast<std::size_t>(args.at("n").to_number<std::int64_t>());
  auto failures = std::make_shared<WarmFailures>();
  Services* s = &services;
  calendar::EventLoader loader = [s, prefix, failures, call](std::string location, DateRange r) {
    return load_through_proxy(s, prefix, failures, call, std::move(location), r);
  };
  calendar::WarmHooks hooks{
      .progress =
          [call](std::size_t done, std::size_t total, const std::string& location) {
            call->progress(static_cast<double>(done), static_cast<double>(total),
                           std::to_string(done) + "/" + std::to_string(total) +
                               " locations: " + location + " done");
          },
      .stop_requested = [call] { return call->cancelled(); }};
  call->progress(0, static_cast<double>(n),
                 "finding the " + std::to_string(n) + " most asked locations");
  auto report =
      co_await cal.warm(n, range, std::move(loader), std::move(options), std::move(hooks));
  if (!report) co_return failed(tool, report.error());
  json::array failed_list;
  for (const auto& [location, why] : report->failed) {
    std::string reason = why;
    {
      std::lock_guard lock(failures->mu);
      if (auto it = failures->why.find(location); it != failures->why.end()) reason = it->second;
    }
    failed_list.push_back(json::object{{"location", location}, {"error", reason}});
  }
  co_return ToolResult::ok({{"from", calendar::format_day(range.from)},
                            {"to", calendar::format_day(range.to)},
                            {"route", services.config->calendar.warm_route},
                            {"loaded", string_list(report->loaded)},
                            {"skipped", string_list(report->skipped)},
                            {"failed", std::move(failed_list)},
                            {"events_stored", report->events_stored},
                            {"stopped", report->stopped}});
}

#undef TC_READ
#undef TC_CALENDAR

// --- Schemas and descriptions. ---

constexpr std::string_view kLocationProp =
    R"("location": {"type": "string", "minLength": 1, "maxLength": 200,
        "description": "The place the events are for, e.g. \"Paris\" or \"Lyon, France\". Case and extra spaces do not matter: \"  PARIS \" is \"paris\"."})";
constexpr std::string_view kRangeProps =
    R"("from": {"type": "string", "maxLength": 40,
        "description": "First day, YYYY-MM-DD (UTC), e.g. \"2026-05-01\"."},
      "to": {"type": "string", "maxLength": 40,
        "description": "Last day, included, YYYY-MM-DD, e.g. \"2026-05-07\"; from = to for one day."})";
constexpr std::string_view kCategoriesProp =
    R"("categories": {"type": "array", "maxItems": 32,
        "items": {"type": "string", "minLength": 1, "maxLength": 64},
        "description": "Categories such as [\"music\", \"food\"] (lower-cased)."})";
constexpr std::string_view kStoreOptionProps =
    R"("ttl": {"type": "string", "minLength": 2, "maxLength": 32,
        "description": "How long the events are served, e.g. \"6h\", \"90m\", \"2d\" (default: 24h)."},
      "priority": {"type": "string", "enum": ["low", "normal", "high"],
        "description": "Who leaves the in-process tier first when it is full (low first)."})";
constexpr std::string_view kDayProp =
    R"("day": {"type": "string", "maxLength": 40,
        "description": "The day, YYYY-MM-DD (UTC), e.g. \"2026-05-03\"."})";
constexpr std::string_view kEventSchema =
    R"({"type": "object", "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 256,
               "description": "Unique within the call; the same id later replaces the event."},
        "title": {"type": "string"},
        "start": {"type": "string", "description": "ISO-8601 instant, e.g. \"2026-05-03T19:30:00Z\" or \"2026-05-03T21:30:00+02:00\"."},
        "end": {"type": "string", "description": "ISO-8601 instant after start (optional)."},
        "location": {"type": "string", "description": "Venue or address (free text)."},
        "categories": {"type": "array", "items": {"type": "string"}},
        "score": {"type": "number", "description": "Popularity or importance; ranks events."},
        "details": {"type": "object", "description": "Anything else, kept as given."}},
      "required": ["id", "start"], "additionalProperties": false})";
constexpr std::string_view kEventsOut = R"({"type": "array", "items": {"type": "object"}})";

json::object annotations(bool read_only, bool destructive, bool idempotent, bool open_world) {
  json::object a{{"readOnlyHint", read_only}, {"openWorldHint", open_world}};
  if (!read_only) {
    a["destructiveHint"] = destructive;
    a["idempotentHint"] = idempotent;
  }
  return a;
}

using Handler = asio::awaitable<ToolResult> (*)(Services&, json::object);

ToolHandler bind(Services& services, Handler h) {
  return [&services, h](json::object a, std::shared_ptr<CallContext>) {
    return h(services, std::move(a));
  };
}

void add_store(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_store_events",
      .title = "Store calendar events",
      .description =
          "Cache the events of a location for a range of days, after fetching them from their "
          "source, so later questions are answered without fetching again. What you store is "
          "taken as everything known for (location, from..to, categories): it replaces what was "
          "stored before for those days, and days without events are stored as \"nothing "
          "happens\". Dates are YYYY-MM-DD, e.g. from \"2026-05-01\" to \"2026-05-07\"; each "
          "event needs an id and an ISO-8601 start (\"2026-05-03T19:30:00Z\") on a day of the "
          "range. Give 'categories' only when the events are just those categories (then each "
          "event must carry one). Optional 'ttl' (\"6h\"; default 24h) and 'priority'. Returns "
          "how many events were stored.",
      .input_schema =
          object_schema(std::string(kLocationProp) + ", " + std::string(kRangeProps) + ", " +
                            std::string(kCategoriesProp) + ", " + std::string(kStoreOptionProps) +
                            R"(, "events": {"type": "array", "maxItems": 10000,
            "description": "The events; [] means nothing happens on those days.",
            "items": )" + std::string(kEventSchema) +
                            "}",
                        R"("location", "from", "to", "events")"),
      .output_schema = schema(R"({"type": "object", "properties": {
          "location": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"},
          "categories": {"type": "array", "items": {"type": "string"}},
          "stored": {"type": "integer"}, "ttl_ms": {"type": "integer"}},
          "required": ["location", "from", "to", "stored", "ttl_ms"]})"),
      .annotations = annotations(false, true, true, false),
      .handler = bind(services, store_events)});
}

void add_get(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_get_events",
      .title = "Read cached calendar events",
      .description =
          "Look up the cached events of a location between two days (both included), e.g. "
          "location \"Paris\", from \"2026-05-01\", to \"2026-05-03\"; optional 'categories' "
          "keeps only events of any of them. Call it before fetching events from a source. "
          "hit=true: 'events' is the whole answer (by start time), even when it was stored as "
          "several smaller ranges. hit=false is not an error: 'missing_days' lists the days "
          "nothing cached covers; fetch those days and store them with calendar_store_events.",
      .input_schema = object_schema(std::string(kLocationProp) + ", " + std::string(kRangeProps) +
                                        ", " + std::string(kCategoriesProp),
                                    R"("location", "from", "to")"),
      .output_schema = schema(std::string(R"({"type": "object", "properties": {
          "location": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"},
          "hit": {"type": "boolean"}, "count": {"type": "integer"}, "events": )") +
                              std::string(kEventsOut) + R"(,
          "missing_days": {"type": "array", "items": {"type": "string"}},
          "hint": {"type": "string"}},
          "required": ["location", "from", "to", "hit"]})"),
      .annotations = annotations(true, false, true, false),
      .handler = bind(services, get_events)});
}

void add_top(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_top_events",
      .title = "Top events of a day",
      .description =
          "The first n cached events of a location on one day (e.g. day \"2026-05-03\", n 5), "
          "ranked by start time (by \"start\", earliest first; the default) or by score (by "
          "\"score\", most popular first). 'covered' says whether anything of that day is "
          "cached; when false, fetch and store the day's events first.",
      .input_schema = object_schema(std::string(kLocationProp) + ", " + std::string(kDayProp) +
                                        R"(, "n": {"type": "integer", "minimum": 1, "maximum": 1000,
            "description": "How many events, 1-1000."},
          "by": {"type": "string", "enum": ["start", "score"],
            "description": "Ranking: start (earliest first, default) or score (highest first)."})",
                                    R"("location", "day", "n")"),
      .output_schema = schema(std::string(R"({"type": "object", "properties": {
          "location": {"type": "string"}, "day": {"type": "string"},
          "by": {"type": "string", "enum": ["start", "score"]},
          "covered": {"type": "boolean"}, "events": )") +
                              std::string(kEventsOut) + R"(},
          "required": ["location", "day", "by", "covered", "events"]})"),
      .annotations = annotations(true, false, true, false),
      .handler = bind(services, top_events)});
}

void add_invalidate(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_invalidate",
      .title = "Forget cached calendar events",
      .description =
          "Forget the cached events of a location, on every tiercached instance: for a range of "
          "days (from \"2026-05-03\" to \"2026-05-05\", every category) or, without from/to, "
          "everything of the location. Use it when the events changed at their source. Other "
          "services are told on the Redis channel in calendar_stats' invalidation_channel.",
      .input_schema = object_schema(std::string(kLocationProp) + ", " + std::string(kRangeProps),
                                    R"("location")"),
      .output_schema = schema(R"({"type": "object", "properties": {
          "location": {"type": "string"},
          "invalidated": {"type": "string", "enum": ["range", "location"]},
          "from": {"type": "string"}, "to": {"type": "string"}},
          "required": ["location", "invalidated"]})"),
      .annotations = annotations(false, true, true, false),
      .handler = bind(services, invalidate)});
}

void add_history(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_history",
      .title = "Update history of a location",
      .description =
          "The changes made to a location's cached events (stores and invalidations), oldest "
          "first, between 'since' and 'until' (ISO-8601 instants such as "
          "\"2026-05-01T00:00:00Z\", or days \"2026-05-01\"; default: all of it up to now), at "
          "most 'limit' (default 100). Each entry has op (store, invalidate_range, "
          "invalidate_location), the days (from, to), the categories, how many events and their "
          "first ids.",
      .input_schema = object_schema(std::string(kLocationProp) + R"(,
          "since": {"type": "string", "description": "From this instant, e.g. \"2026-05-01T00:00:00Z\"."},
          "until": {"type": "string", "description": "Up to this instant (default: now)."},
          "limit": {"type": "integer", "minimum": 1, "maximum": 10000,
            "description": "At most this many entries (default 100)."})",
                                    R"("location")"),
      .output_schema = schema(R"({"type": "object", "properties": {
          "location": {"type": "string"}, "since": {"type": "string"}, "until": {"type": "string"},
          "count": {"type": "integer"},
          "entries": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "at": {"type": "string"}, "op": {"type": "string"},
            "from": {"type": "string"}, "to": {"type": "string"},
            "categories": {"type": "array", "items": {"type": "string"}},
            "events": {"type": "integer"},
            "event_ids": {"type": "array", "items": {"type": "string"}},
            "ttl_ms": {"type": "integer"}}, "required": ["id", "at", "op"]}}},
          "required": ["location", "count", "entries"]})"),
      .annotations = annotations(true, false, true, false),
      .handler = bind(services, history)});
}

void add_summary(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_daily_summary",
      .title = "Daily summary of a location",
      .description =
          "A digest of a location's cached events on one day (e.g. day \"2026-05-03\"): how "
          "many, how many per category, the first and last start, and the top events by score. "
          "Cheaper than reading every event when you only need an overview. It is refreshed "
          "whenever events of that day are stored. found=false: nothing of that day is cached.",
      .input_schema = object_schema(std::string(kLocationProp) + ", " + std::string(kDayProp),
                                    R"("location", "day")"),
      .output_schema = schema(R"({"type": "object", "properties": {
          "location": {"type": "string"}, "day": {"type": "string"},
          "found": {"type": "boolean"}, "summary": {"type": "object"},
          "hint": {"type": "string"}},
          "required": ["location", "day", "found"]})"),
      .annotations = annotations(true, false, true, false),
      .handler = bind(services, daily_summary)});
}

void add_stats(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_stats",
      .title = "Calendar cache statistics",
      .description =
          "How the calendar cache is doing: hits, misses and hit rate of calendar_get_events, "
          "stores and events stored, invalidations, warm loads, the locations with cached data "
          "and their estimated Redis memory, the default TTL, the longest range a call may span, "
          "the Redis channel invalidations are published on, and the most asked locations (what "
          "calendar_warm would load).",
      .input_schema = object_schema("", ""),
      .output_schema = schema(R"({"type": "object", "properties": {
          "prefix": {"type": "string"}, "hits": {"type": "integer"},
          "misses": {"type": "integer"}, "hit_rate": {"type": "number"},
          "stores": {"type": "integer"}, "events_stored": {"type": "integer"},
          "invalidations": {"type": "integer"}, "warm_loads": {"type": "integer"},
          "cleanup_runs": {"type": "integer"}, "locations": {"type": "integer"},
          "estimated_bytes": {"type": "integer"}, "sampled_locations": {"type": "integer"},
          "default_ttl_ms": {"type": "integer"}, "max_range_days": {"type": "integer"},
          "invalidation_channel": {"type": "string"},
          "day_views": {"type": "object", "properties": {
            "hits": {"type": "integer"}, "misses": {"type": "integer"},
            "evictions": {"type": "integer"}, "bytes": {"type": "integer"},
            "entries": {"type": "integer"}}},
          "popular_locations": {"type": "array", "items": {"type": "object", "properties": {
            "location": {"type": "string"}, "gets": {"type": "number"}}}}},
          "required": ["hits", "misses", "hit_rate", "events_stored", "locations"]})"),
      .annotations = annotations(true, false, false, false),
      .handler = bind(services, stats)});
}

void add_warm(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "calendar_warm",
      .title = "Preload the most asked locations",
      .description =
          "Load the events of the n most asked locations (see calendar_stats' "
          "popular_locations) for a range of days (at most 31, e.g. from \"2026-05-01\" to "
          "\"2026-05-07\") from the events source tiercached is configured with, and cache them, "
          "so the next questions about them are hits. Locations already cached for the range "
          "are skipped. Optional 'categories', 'ttl' and 'priority' apply to what is stored. "
          "Reports progress per location when asked (progressToken) and stops between "
          "locations when cancelled. Fails with a message when no events source is configured.",
      .input_schema =
          object_schema(R"("n": {"type": "integer", "minimum": 1, "maximum": 100,
            "description": "How many of the most asked locations, 1-100."}, )" +
                            std::string(kRangeProps) + ", " + std::string(kCategoriesProp) + ", " +
                            std::string(kStoreOptionProps),
                        R"("n", "from", "to")"),
      .output_schema = schema(R"({"type": "object", "properties": {
          "from": {"type": "string"}, "to": {"type": "string"}, "route": {"type": "string"},
          "loaded": {"type": "array", "items": {"type": "string"}},
          "skipped": {"type": "array", "items": {"type": "string"}},
          "failed": {"type": "array", "items": {"type": "object", "properties": {
            "location": {"type": "string"}, "error": {"type": "string"}}}},
          "events_stored": {"type": "integer"}, "stopped": {"type": "boolean"}},
          "required": ["loaded", "skipped", "failed", "events_stored"]})"),
      .annotations = annotations(false, false, true, true),
      .handler = [&services](json::object a, std::shared_ptr<CallContext> call) {
        return warm(services, std::move(a), std::move(call));
      }});
}

}  // namespace

void add_calendar_tools(ToolRegistry& tools, Services& services) {
  add_store(tools, services);
  add_get(tools, services);
  add_top(tools, services);
  add_invalidate(tools, services);
  add_history(tools, services);
  add_summary(tools, services);
  add_stats(tools, services);
  add_warm(tools, services);
}

}  // namespace tiercache::server::mcp
