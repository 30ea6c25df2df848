#pragma once
// The tiercached command line: --config FILE, --listen HOST:PORT, --redis URL, --threads N,
// --version, --help (CLI11), and the subcommand `mcp` (the MCP server over stdio, no HTTP).
// Builds the Config: file, then environment, then flags.
// Use: auto r = parse_command_line(argc, argv, std::cout, std::cerr);
//      if (!r.config) return r.exit_code;   // --help, --version, or an error already printed
// Thread-safety: reads the environment; call from main before any thread starts.

#include "server/config.hpp"

#include <iosfwd>
#include <optional>

namespace tiercache::server {

struct CommandLine {
  std::optional<Config> config;  // nullopt: exit with exit_code
  int exit_code = 0;
  // `tiercached mcp`: serve MCP on stdin/stdout instead of HTTP.
  bool mcp_stdio = false;
};

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err);

// "tiercached <version>".
const char* version_string() noexcept;

}  // namespace tiercache::server
