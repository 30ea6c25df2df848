// warm: reads a file of `NS KEY` lines and `/proxy/path` lines, checks all of it, then sends it
// to POST /v1/admin/warm in batches (the daemon warms one item at a time, gently).

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <fstream>
#include <memory>
#include <ostream>

namespace tiercache::cli {
namespace {

namespace json = boost::json;

struct WarmArgs {
  std::string file;
  std::size_t batch = 100;
};

// One request's worth: proxy paths, or keys of one namespace.
struct Batch {
  std::string ns;  // empty: paths
  std::vector<std::string> items;
};

struct Tally {
  std::uint64_t items = 0;
  std::uint64_t warmed = 0;  // a key found (now in L1) or a path fetched with status < 400
  std::uint64_t missed = 0;  // a key not in Redis: nothing to warm
  std::uint64_t failed = 0;  // an error, or a path without a route / with status >= 400
  json::array failures;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The file into batches, or the first bad line's complaint in *why (nothing is sent then).
std::optional<std::vector<Batch>> read_plan(std::istream& in, const std::string& source,
                                            std::size_t batch_size, std::uint64_t* total,
                                            std::string* why) {
  std::vector<Batch> batches;
  std::string line;
  std::size_t number = 0;
  const auto add = [&](const std::string& ns, std::string item) {
    if (batches.empty() || batches.back().ns != ns || batches.back().items.size() >= batch_size) {
      batches.push_back(Batch{ns, {}});
    }
    batches.back().items.push_back(std::move(item));
    ++*total;
  };
  while (std::getline(in, line)) {
    ++number;
    const auto text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const std::string where = source + ":" + std::to_string(number) + ": ";
    if (text.front() == '/') {
      if (text.find_first_of(" \t") != std::string_view::npos) {
        *why = where + "a proxy path has no spaces";
        return std::nullopt;
      }
      add("", std::string(text));
      continue;
    }
    const auto space = text.find_first_of(" \t");
    if (space == std::string_view::npos) {
      *why = where + "expected 'NAMESPACE KEY' or '/proxy/path', got '" + std::string(text) + "'";
      return std::nullopt;
    }
    const std::string ns(text.substr(0, space));
    const std::string key(trim(text.substr(space)));
    if (key.size() > 1024) {
      *why = where + "the key is longer than 1024 bytes";
      return std::nullopt;
    }
    add(ns, key);
  }
  return batches;
}

void count(const json::object& result, Tally& tally) {
  ++tally.items;
  const auto* error = result.if_contains("error");
  if (error != nullptr) {
    ++tally.failed;
    tally.failures.push_back(result);
    return;
  }
  if (const auto* hit = result.if_contains("hit"); hit != nullptr && hit->is_bool()) {
    hit->as_bool() ? ++tally.warmed : ++tally.missed;
    return;
  }
  const auto* status = result.if_contains("status");
  if (status != nullptr && status->is_number() && status->to_number<int>() < 400) {
    ++tally.warmed;
  } else {
    ++tally.failed;
    tally.failures.push_back(result);
  }
}

int warm(Context& ctx, const WarmArgs& a) {
  std::ifstream file;
  std::istream* in = &ctx.in;
  std::string source = "stdin";
  if (a.file != "-") {
    file.open(a.file);
    if (!file) return ctx.fail(ExitCode::usage, "cannot read --file '" + a.file + "'");
    in = &file;
    source = a.file;
  }
  std::uint64_t total = 0;
  std::string why;
  auto plan = read_plan(*in, source, a.batch, &total, &why);
  if (!plan) return ctx.fail(ExitCode::usage, why + " (nothing was warmed)");
  if (total == 0) return ctx.fail(ExitCode::usage, source + ": no keys or paths to warm");

  const auto start = std::chrono::steady_clock::now();
  Tally tally;
  ProgressBar bar(ctx.err, ctx.terminal.stderr_tty && !ctx.json, "warm", total);
  for (const auto& batch : *plan) {
    json::object body;
    if (batch.ns.empty()) {
      body["paths"] = json::value_from(batch.items);
    } else {
      body["namespace"] = batch.ns;
      body["keys"] = json::value_from(batch.items);
    }
    auto r = ctx.call(http::verb::post, "/v1/admin/warm", json::serialize(body), {},
                      {{"Content-Type", "application/json"}});
    if (!r) {
      bar.finish();
      if (tally.items > 0) {
        ctx.err << "tiercache: stopped after " << tally.items << " of " << total << " items\n";
      }
      return r.exit;
    }
    auto v = ctx.parse_json(*r.reply);
    const auto* results = v && v->is_object() ? v->as_object().if_contains("results") : nullptr;
    if (results == nullptr || !results->is_array()) {
      return ctx.bad_reply("no \"results\" array in the warm answer");
    }
    for (const auto& item : results->as_array()) {
      if (item.is_object()) count(item.as_object(), tally);
    }
    bar.update(tally.items);
  }
  bar.finish();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (ctx.json) {
    json::object o{{"items", tally.items},
                   {"warmed", tally.warmed},
                   {"missed", tally.missed},
                   {"failed", tally.failed},
                   {"seconds", std::chrono::duration<double>(elapsed).count()},
                   {"failures", tally.failures}};
    ctx.out << json::serialize(o) << "\n";
  } else {
    ctx.out << "warmed " << tally.warmed << " of " << tally.items << " in "
            << human_duration(elapsed) << " (" << tally.missed << " not in Redis, " << tally.failed
            << " failed)\n";
    std::size_t shown = 0;
    for (const auto& f : tally.failures) {
      if (++shown > 10) {
        ctx.out << "  ... and " << tally.failures.size() - 10 << " more\n";
        break;
      }
      ctx.out << "  failed: " << json::serialize(f) << "\n";
    }
  }
  return tally.failed == 0 ? to_int(ExitCode::ok) : to_int(ExitCode::refused);
}

}  // namespace

void add_warm_command(CLI::App& app, std::vector<Command>& out) {
  auto args = std::make_shared<WarmArgs>();
  auto* sub = app.add_subcommand(
      "warm", "load keys (into L1) and proxy paths (into the cache) from a file (admin token)");
  sub->add_option("-f,--file", args->file,
                  "one item a line: 'NAMESPACE KEY' or '/proxy/path'; '#' comments; '-': stdin")
      ->required();
  sub->add_option("--batch", args->batch, "items per request (default 100, at most 1000)")
      ->check(CLI::Range(1, 1000));
  sub->footer(
      "The whole file is checked before anything is sent. Needs the admin token.\n"
      "Exit: 0 all warmed or absent from Redis, 6 some items failed, 4 token refused.\n"
      "Example file:\n"
      "  users alice\n"
      "  users bob\n"
      "  /api/flights?from=CDG\n"
      "Examples:\n"
      "  tiercache --token \"$TOKEN\" warm --file hot-keys.txt\n"
      "  redis-cli --scan --pattern 'users:*' | sed 's/^users:v[0-9]*:/users /' | "
      "tiercache warm -f -");
  out.push_back({sub, [args](Context& ctx) { return warm(ctx, *args); },
                 "warming fills the daemons' L1 and runs their proxy routes"});
}

}  // namespace tiercache::cli
