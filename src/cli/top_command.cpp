// top: a live view of the daemon — ops/s, hit rate, HTTP latency, memory, per namespace —
// redrawn every interval until q or Ctrl-C. Rates are differences between two samples of
// /v1/stats and /metrics; memory comes from /v1/health. `--once` prints one frame and exits.

#include "cli/commands.hpp"
#include "cli/text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <thread>
#include <variant>

namespace tiercache::cli {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct TopArgs {
  double interval_s = 1;
  bool once = false;
};

// The daemon's own requests are left out of the latency: they are what top itself sends.
bool is_monitoring_route(std::string_view route) {
  return route == "/metrics" || route == "/v1/stats" || route == "/v1/health" ||
         route == "/healthz" || route == "/readyz";
}

struct Sample {
  Clock::time_point at;
  json::object stats;
  json::object health;                 // empty when /v1/health failed
  std::map<double, std::uint64_t> le;  // cumulative HTTP latency buckets, summed over routes
  std::uint64_t http_count = 0;
};

std::string string_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A label's value in `{a="x",b="y"}`; "" when absent.
std::string label(std::string_view labels, std::string_view name) {
  const std::string needle = std::string(name) + "=\"";
  auto at = labels.find(needle);
  while (at != std::string_view::npos && at > 0 && labels[at - 1] != '{' && labels[at - 1] != ',') {
    at = labels.find(needle, at + 1);
  }
  if (at == std::string_view::npos) return {};
  const auto start = at + needle.size();
  const auto end = labels.find('"', start);
  return end == std::string_view::npos ? std::string()
                                       : std::string(labels.substr(start, end - start));
}

// tiercache_http_request_duration_seconds_bucket{route="...",le="0.001"} 12, summed per le.
void read_latency(const std::string& metrics, Sample& s) {
  constexpr std::string_view kBucket = "tiercache_http_request_duration_seconds_bucket{";
  std::istringstream lines(metrics);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(kBucket, 0) != 0) continue;
    // The last '}': route patterns hold braces of their own ({ns}, {key}).
    const auto close = line.rfind('}');
    if (close == std::string::npos) continue;
    const std::string_view labels(line.data() + kBucket.size() - 1, close - kBucket.size() + 2);
    if (is_monitoring_route(label(labels, "route"))) continue;
    const std::string le_text = label(labels, "le");
    double le = 0;
    try {
      le = le_text == "+Inf" ? 1e300 : std::stod(le_text);
      const auto n = static_cast<std::uint64_t>(std::stod(line.substr(close + 1)));
      s.le[le] += n;
      if (le_text == "+Inf") s.http_count += n;
    } catch (const std::exception&) {
      continue;  // a line we do not understand is no reason to stop
    }
  }
}

// One sample, or the exit code after the error was reported.
std::variant<Sample, int> take_sample(Context& ctx) {
  Sample s;
  s.at = Clock::now();
  auto stats = ctx.call(http::verb::get, "/v1/stats");
  if (!stats) return stats.exit;
  auto v = ctx.parse_json(*stats.reply);
  if (!v || !v->is_object()) return to_int(ExitCode::server_error);
  s.stats = std::move(v->as_object());
  auto metrics = ctx.client().request(http::verb::get, "/metrics");
  if (metrics && metrics->status == 200) read_latency(metrics->body, s);
  auto health = ctx.client().request(http::verb::get, "/v1/health");
  if (health && health->status == 200) {
    boost::system::error_code ec;
    auto h = json::parse(health->body, ec);
    if (!ec && h.is_object()) s.health = std::move(h.as_object());
  }
  return s;
}

// The latency below which a fraction q of the interval's requests finished (a bucket's bound).
std::optional<double> quantile_s(const Sample& a, const Sample& b, double q) {
  const auto total = b.http_count - std::min(b.http_count, a.http_count);
  if (total == 0) return std::nullopt;
  for (const auto& [le, n] : b.le) {
    const auto before = a.le.count(le) ? a.le.at(le) : 0;
    if (static_cast<double>(n - std::min(n, before)) >= q * static_cast<double>(total)) return le;
  }
  return std::nullopt;
}

std::string latency_text(std::optional<double> s) {
  if (!s) return "-";
  if (*s > 1e299) return "> max bucket";
  return "<= " + human_duration(std::chrono::nanoseconds(static_cast<std::int64_t>(*s * 1e9)));
}

std::uint64_t ops_of(const json::object& ns) {
  return count_of(ns, "hits") + count_of(ns, "misses") + count_of(ns, "errors") +
         count_of(ns, "sets") + count_of(ns, "deletes");
}

const json::object& namespaces_of(const Sample& s) {
  static const json::object kNone;
  const auto* n = s.stats.if_contains("namespaces");
  return n != nullptr && n->is_object() ? n->as_object() : kNone;
}

struct Frame {
  double seconds = 0;
  double ops = 0;
  std::optional<double> hit_rate;  // over the interval
  std::optional<double> p50, p99;
  std::uint64_t http_requests = 0;
};

Frame frame_of(const Sample& a, const Sample& b) {
  Frame f;
  f.seconds = std::max(1e-3, std::chrono::duration<double>(b.at - a.at).count());
  std::uint64_t ops = 0, hits = 0, reads = 0;
  const auto& before = namespaces_of(a);
  for (const auto& [name, value] : namespaces_of(b)) {
    if (!value.is_object()) continue;
    const auto& now = value.as_object();
    const auto* then = before.if_contains(name);
    static const json::object kZero;
    const auto& old = then != nullptr && then->is_object() ? then->as_object() : kZero;
    const auto delta = [&](std::string_view k) {
      return count_of(now, k) - std::min(count_of(now, k), count_of(old, k));
    };
    ops += ops_of(now) - std::min(ops_of(now), ops_of(old));
    hits += delta("hits");
    reads += delta("hits") + delta("misses") + delta("errors");
  }
  f.ops = static_cast<double>(ops) / f.seconds;
  if (reads > 0) f.hit_rate = static_cast<double>(hits) / static_cast<double>(reads);
  f.p50 = quantile_s(a, b, 0.5);
  f.p99 = quantile_s(a, b, 0.99);
  f.http_requests = b.http_count - std::min(b.http_count, a.http_count);
  return f;
}

std::string render(const Context& ctx, const Sample& a, const Sample& b, bool live) {
  const Frame f = frame_of(a, b);
  std::ostringstream o;
  char buf[160];
  const auto* health = b.health.if_contains("health");
  const std::string status = health != nullptr && health->is_object()
                                 ? string_of(health->as_object(), "status")
                                 : std::string("unknown");
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char clock[16];
  std::strftime(clock, sizeof clock, "%H:%M:%S", &tm);
  // On a terminal: the title bold, the health in its colour, the table's header bold.
  const bool color = ctx.terminal.stdout_tty;
  const auto sgr = [color](const char* code) { return color ? code : ""; };
  const char* health_color = status == "healthy"    ? "\x1b[32m"
                             : status == "degraded" ? "\x1b[33m"
                                                    : "\x1b[31m";
  o << sgr("\x1b[1m") << "tiercached " << ctx.server.text << sgr("\x1b[0m") << "  "
    << string_of(b.stats, "mode") << "  up "
    << human_duration(std::chrono::seconds(count_of(b.stats, "uptime_s"))) << "  health "
    << sgr(health_color) << status << sgr("\x1b[0m") << "  " << clock << (live ? "  (q quits)" : "")
    << "\n";
  std::snprintf(buf, sizeof buf, "%.1f", f.ops);
  o << "ops/s    " << buf << "   hit rate " << (f.hit_rate ? percent(*f.hit_rate) : "-")
    << " (interval), ";
  const auto* total_rate = b.stats.if_contains("hit_rate");
  o << (total_rate != nullptr && total_rate->is_number() ? percent(total_rate->to_number<double>())
                                                         : "-")
    << " (since start)\n";
  std::snprintf(buf, sizeof buf, "%.1f s", f.seconds);
  o << "latency  p50 " << latency_text(f.p50) << "   p99 " << latency_text(f.p99) << "   ("
    << f.http_requests << " HTTP requests in " << buf << ")\n";
  std::uint64_t l1_bytes = 0, l1_entries = 0;
  for (const auto& [_, value] : namespaces_of(b)) {
    if (!value.is_object()) continue;
    l1_bytes += count_of(value.as_object(), "l1_bytes");
    l1_entries += count_of(value.as_object(), "l1_entries");
  }
  o << "memory   L1 " << human_bytes(l1_bytes) << " in " << l1_entries << " entries";
  const std::string redis_memory = string_of(b.health, "memory_used_human");
  o << "   Redis " << (redis_memory.empty() ? std::string("-") : redis_memory + " used") << "\n\n";
  Table t({"NAMESPACE", "OPS/S", "HIT RATE", "HITS", "MISSES", "L1 ENTRIES", "L1 BYTES"});
  const auto& before = namespaces_of(a);
  for (const auto& [name, value] : namespaces_of(b)) {
    if (!value.is_object()) continue;
    const auto& now_ns = value.as_object();
    const auto* then = before.if_contains(name);
    const std::uint64_t old_ops =
        then != nullptr && then->is_object() ? ops_of(then->as_object()) : 0;
    std::snprintf(
        buf, sizeof buf, "%.1f",
        static_cast<double>(ops_of(now_ns) - std::min(ops_of(now_ns), old_ops)) / f.seconds);
    const auto* rate = now_ns.if_contains("hit_rate");
    t.add({std::string(name), buf,
           rate != nullptr && rate->is_number() ? percent(rate->to_number<double>()) : "-",
           std::to_string(count_of(now_ns, "hits")), std::to_string(count_of(now_ns, "misses")),
           std::to_string(count_of(now_ns, "l1_entries")),
           human_bytes(count_of(now_ns, "l1_bytes"))});
  }
  std::ostringstream table;
  t.print(table);
  const std::string rows = table.str();
  const auto header_end = rows.find('\n');
  o << sgr("\x1b[1m") << rows.substr(0, header_end) << sgr("\x1b[0m")
    << (header_end == std::string::npos ? std::string() : rows.substr(header_end));
  return o.str();
}

json::object frame_json(const Sample& a, const Sample& b) {
  const Frame f = frame_of(a, b);
  const auto opt = [](std::optional<double> v) {
    return v ? json::value(*v) : json::value(nullptr);
  };
  json::object o{{"interval_s", f.seconds},
                 {"ops_per_s", f.ops},
                 {"hit_rate", opt(f.hit_rate)},
                 {"latency_p50_s", opt(f.p50)},
                 {"latency_p99_s", opt(f.p99)},
                 {"http_requests", f.http_requests},
                 {"stats", b.stats}};
  const auto* health = b.health.if_contains("health");
  o["health"] = health != nullptr ? *health : json::value(nullptr);
  o["redis_memory_used"] =
      b.health.contains("memory_used") ? b.health.at("memory_used") : json::value(nullptr);
  return o;
}

// Ctrl-C in live mode: stop the loop and restore the terminal, instead of dying mid-frame.
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }

// The terminal in "one key at a time, no echo" mode for the loop's lifetime.
class RawKeys {
 public:
  explicit RawKeys(bool enabled) : enabled_(enabled && ::tcgetattr(0, &saved_) == 0) {
    if (!enabled_) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(0, TCSANOW, &raw);
  }
  ~RawKeys() {
    if (enabled_) ::tcsetattr(0, TCSANOW, &saved_);
  }
  RawKeys(const RawKeys&) = delete;
  RawKeys& operator=(const RawKeys&) = delete;

  // Waits up to `d` for a key; true when it was q or Q.
  bool quit_within(std::chrono::milliseconds d) const {
    pollfd p{0, POLLIN, 0};
    const int n = ::poll(enabled_ ? &p : nullptr, enabled_ ? 1 : 0, static_cast<int>(d.count()));
    if (n <= 0 || !enabled_) return false;
    char c = 0;
    return ::read(0, &c, 1) == 1 && (c == 'q' || c == 'Q');
  }

 private:
  termios saved_{};
  bool enabled_;
};

int top(Context& ctx, const TopArgs& a) {
  const auto interval = std::chrono::milliseconds(static_cast<std::int64_t>(a.interval_s * 1000));
  auto first = take_sample(ctx);
  if (auto* code = std::get_if<int>(&first)) return *code;
  Sample previous = std::get<Sample>(std::move(first));
  if (a.once) {
    std::this_thread::sleep_for(interval);
    auto next = take_sample(ctx);
    if (auto* code = std::get_if<int>(&next)) return *code;
    const auto& current = std::get<Sample>(next);
    if (ctx.json) {
      ctx.out << json::serialize(frame_json(previous, current)) << "\n";
    } else {
      ctx.out << render(ctx, previous, current, false);
    }
    return to_int(ExitCode::ok);
  }
  g_interrupted = false;
  struct sigaction action {};
  struct sigaction old_action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &old_action);  // no SA_RESTART: poll() returns at once
  int code = to_int(ExitCode::ok);
  {
    RawKeys keys(ctx.terminal.stdin_tty);
    const bool clear = ctx.terminal.stdout_tty && !ctx.json;
    while (!g_interrupted) {
      if (keys.quit_within(interval) || g_interrupted) break;
      auto next = take_sample(ctx);
      if (auto* failed = std::get_if<int>(&next)) {
        code = *failed;
        break;
      }
      auto& current = std::get<Sample>(next);
      if (ctx.json) {
        ctx.out << json::serialize(frame_json(previous, current)) << "\n";
      } else {
        ctx.out << (clear ? "\x1b[H\x1b[2J" : "") << render(ctx, previous, current, true)
                << (clear ? "" : "\n");
      }
      ctx.out.flush();
      previous = std::move(current);
    }
  }
  ::sigaction(SIGINT, &old_action, nullptr);
  return code;
}

}  // namespace

void add_top_command(CLI::App& app, std::vector<Command>& out) {
  auto args = std::make_shared<TopArgs>();
  auto* sub = app.add_subcommand(
      "top", "a live view: ops/s, hit rate, latency, memory, per namespace (q or Ctrl-C quits)");
  sub->add_option("-i,--interval", args->interval_s, "seconds between frames (default 1)")
      ->check(CLI::Range(0.1, 60.0));
  sub->add_flag("--once", args->once, "print one frame (two samples an interval apart) and exit");
  sub->footer(
      "Latency is the daemon's own HTTP timing (its histogram buckets, so 'p99 <= 1 ms' is a\n"
      "bound), without the monitoring routes top itself calls.\n"
      "Examples:\n"
      "  tiercache top\n"
      "  tiercache top --once\n"
      "  tiercache top --json --interval 5 >> cache.log   # one JSON object per frame");
  out.push_back({sub, [args](Context& ctx) { return top(ctx, *args); },
                 "it watches the daemon's own rates and latency; 'tiercache --redis URL stats' "
                 "shows Redis's side"});
}

}  // namespace tiercache::cli
