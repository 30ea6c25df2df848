#include "server/command_line.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

#ifndef TIERCACHE_VERSION
#define TIERCACHE_VERSION "0.0.0"
#endif

namespace tiercache::server {

const char* version_string() noexcept { return "tiercached " TIERCACHE_VERSION; }

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  CLI::App app{
      "tiercached: a two-tier cache (in-process L1 + Redis L2) behind an HTTP API.\n"
      "Configuration: the TOML file, then the environment (REDIS_URL, REDIS_HOST/PORT/DB/"
      "PASSWORD, TIERCACHE_LISTEN, TIERCACHE_THREADS, TIERCACHE_ADMIN_TOKEN, "
      "TIERCACHE_ACCESS_LOG, TIERCACHE_LOG_LEVEL), then these flags.",
      "tiercached"};
  std::string config_file, listen, redis_url;
  std::optional<std::size_t> threads;
  bool version = false;
  app.add_option("-c,--config", config_file, "TOML configuration file (deploy/tiercached.toml)");
  app.add_option("-l,--listen", listen, "address to listen on, HOST:PORT (default 127.0.0.1:8080)");
  app.add_option("-r,--redis", redis_url,
                 "Redis URL, redis://[user:pass@]host[:port][/db] or rediss:// or unix://; "
                 "\"none\": L1 only");
  app.add_option("-t,--threads", threads, "I/O threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("-V,--version", version, "print the version and exit");
  CLI::App* mcp = app.add_subcommand(
      "mcp",
      "serve the MCP server (JSON-RPC 2.0) on stdin/stdout for an MCP host, instead of HTTP; "
      "logs go to stderr");
  mcp->fallthrough();  // tiercached mcp --config FILE works as tiercached --config FILE mcp
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, app.exit(e, out, err)};
  }
  if (version) {
    out << version_string() << "\n";
    return {std::nullopt, 0};
  }
  try {
    Config config = config_file.empty() ? Config{} : load_config_file(config_file);
    apply_environment(config);
    if (!listen.empty()) set_listen(config, listen, "--listen");
    if (!redis_url.empty()) set_redis_url(config, redis_url, "--redis");
    if (threads) config.threads = *threads;
    validate(config);
    return {std::move(config), 0, mcp->parsed()};
  } catch (const ConfigError& e) {
    err << "tiercached: configuration error: " << e.what() << "\n";
    return {std::nullopt, 2};
  }
}

}  // namespace tiercache::server
