#pragma once
// The subcommands: each add_* declares its options on the CLI11 app and returns what to run once
// the command line is parsed. One file per family: cache_commands.cpp (get, set, del, ttl,
// invalidate), ops_commands.cpp (stats, health, ratelimit), warm_command.cpp, bench_command.cpp,
// top_command.cpp; with --redis, redis_commands.cpp and redis_bench.cpp.
// Thread-safety: a Command runs on the calling thread (bench starts and joins its own workers).

#include "cli/context.hpp"

#include <CLI/App.hpp>

#include <functional>
#include <vector>

namespace tiercache::cli {

struct Command {
  CLI::App* app;
  std::function<int(Context&)> run;
  // Why the command has no --redis mode (run() refuses the flag with this reason, exit 2);
  // null when it has one.
  const char* without_redis = "it needs the daemon";
};

void add_cache_commands(CLI::App& app, std::vector<Command>& out);
void add_ops_commands(CLI::App& app, std::vector<Command>& out);
void add_warm_command(CLI::App& app, std::vector<Command>& out);
void add_bench_command(CLI::App& app, std::vector<Command>& out);
void add_top_command(CLI::App& app, std::vector<Command>& out);

}  // namespace tiercache::cli
