// The command line: global options, the subcommands' registration, usage errors (exit 2).

#include "cli/run.hpp"

#include "cli/commands.hpp"
#include "cli/redis_session.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <ostream>

#ifndef TIERCACHE_VERSION
#define TIERCACHE_VERSION "0.0.0"
#endif

namespace tiercache::cli {

Terminal Terminal::of_process() {
  return Terminal{.stdin_tty = ::isatty(0) == 1,
                  .stdout_tty = ::isatty(1) == 1,
                  .stderr_tty = ::isatty(2) == 1};
}

int run(std::vector<std::string> args, std::istream& in, std::ostream& out, std::ostream& err,
        Terminal terminal) {
  CLI::App app{
      "tiercache: look at and act on a running tiercached over its REST API, or on its Redis\n"
      "through the library (--redis URL: get, set, del, ttl, invalidate, stats, bench).\n"
      "Exit codes: 0 ok, 1 not found / miss, 2 usage, 3 server unreachable, 4 auth refused,\n"
      "5 server error, 6 refused (degraded, rate-limited, failed items), 7 unhealthy.",
      "tiercache"};
  app.fallthrough();  // global options work after the subcommand too: tiercache get ns k --json
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  tiercache set users alice '{\"name\":\"Alice\"}' --ttl 10m --tag team:red\n"
      "  tiercache get users alice\n"
      "  tiercache --server http://10.0.0.5:8080 stats\n"
      "  TIERCACHE_TOKEN=... tiercache warm --file keys.txt\n"
      "  tiercache --redis redis://127.0.0.1:6379 get users alice\n"
      "Run 'tiercache <command> --help' for a command's options and examples.");
  std::string server = "http://127.0.0.1:8080";
  std::string token;
  std::string redis_url;
  bool json = false;
  bool version = false;
  double timeout_s = 10;
  app.add_option("-s,--server", server, "tiercached's URL (default http://127.0.0.1:8080)")
      ->envname("TIERCACHE_SERVER");
  app.add_option("-t,--token", token,
                 "bearer token for the admin API (warm); default: $TIERCACHE_TOKEN")
      ->envname("TIERCACHE_TOKEN");
  app.add_option("--redis", redis_url,
                 "talk to Redis through the library instead of to a daemon: get, set, del, "
                 "ttl, invalidate, stats, bench (redis://[user:password@]host[:port][/db])");
  app.add_flag("-j,--json", json, "machine-readable JSON on stdout");
  app.add_option("--timeout", timeout_s, "seconds to wait for each answer (default 10)")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_flag("-V,--version", version, "print the version and exit");

  std::vector<Command> commands;
  add_cache_commands(app, commands);
  add_ops_commands(app, commands);
  add_warm_command(app, commands);
  add_bench_command(app, commands);
  add_top_command(app, commands);

  // --version alone is not a usage error for want of a subcommand.
  if (args.size() == 1 && (args[0] == "--version" || args[0] == "-V")) {
    out << "tiercache " TIERCACHE_VERSION "\n";
    return 0;
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, out, err);
    return to_int(ExitCode::ok);
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e, out, err);
    return to_int(ExitCode::ok);
  } catch (const CLI::ParseError& e) {
    err << "tiercache: " << e.what() << "\nRun 'tiercache --help' (or 'tiercache <command> "
        << "--help') for usage.\n";
    return to_int(ExitCode::usage);
  }

  std::string why;
  auto url = parse_server_url(server, &why);
  if (!url) {
    err << "tiercache: --server '" << server << "': " << why << "\n";
    return to_int(ExitCode::usage);
  }
  if (!redis_url.empty()) {
    std::string redis_why;
    if (!RedisTarget::parse(redis_url, &redis_why)) {
      // Not the URL itself: it may carry a password.
      err << "tiercache: --redis: " << redis_why << "\n";
      return to_int(ExitCode::usage);
    }
  }
  Context ctx(std::move(*url), in, out, err);
  ctx.token = token;
  ctx.redis_url = redis_url;
  ctx.json = json;
  ctx.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
  ctx.terminal = terminal;
  for (const auto& command : commands) {
    if (command.app->parsed()) {
      if (ctx.redis_mode() && command.without_redis != nullptr) {
        return ctx.fail(ExitCode::usage, command.app->get_name() + " has no --redis mode: " +
                                             command.without_redis + ". Drop --redis.");
      }
      try {
        const int code = command.run(ctx);
        out.flush();
        return code;
      } catch (const std::exception& e) {
        // Programmer errors and the odd std::bad_alloc: say so instead of aborting.
        return ctx.fail(ExitCode::server_error, std::string("internal error: ") + e.what());
      }
    }
  }
  err << "tiercache: no command given\n";
  return to_int(ExitCode::usage);
}

}  // namespace tiercache::cli
