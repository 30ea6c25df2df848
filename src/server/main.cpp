// tiercached: parse the command line, run the daemon until SIGTERM or SIGINT; or, as
// `tiercached mcp`, serve MCP over stdin/stdout until the host closes stdin.

#include "server/command_line.hpp"
#include "server/daemon.hpp"
#include "server/mcp/stdio_transport.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace tiercache::server;
  auto cl = parse_command_line(argc, argv, std::cout, std::cerr);
  if (!cl.config) return cl.exit_code;
  if (cl.mcp_stdio) {
    // stdout carries JSON-RPC alone: every log line goes to stderr.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("tiercached"));
  }
  try {
    Daemon daemon(std::move(*cl.config));
    if (cl.mcp_stdio) {
      daemon.start(false);
      const int rc =
          mcp::run_stdio(daemon.mcp_server(), daemon.executor(), STDIN_FILENO, STDOUT_FILENO);
      daemon.stop();
      return rc;
    }
    daemon.start();
    daemon.wait_for_signal();
  } catch (const ConfigError& e) {
    std::cerr << "tiercached: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("tiercached: {}", e.what());
    return 1;
  }
  return 0;
}
