#pragma once
// run: the whole `tiercache` command, argv to exit code, with its streams as parameters, so that
// tests call it in process and main() is three lines.
// Use: int code = cli::run({"--server", url, "get", "users", "alice"}, std::cin, std::cout,
//                          std::cerr, cli::Terminal::of_process());
// Thread-safety: one call at a time per set of streams; calls share no state.

#include <iosfwd>
#include <string>
#include <vector>

namespace tiercache::cli {

// What the streams are attached to: progress bars go to a terminal only, and `top` reads keys
// from stdin only when it is one.
struct Terminal {
  bool stdin_tty = false;   // Default: false (tests, pipes)
  bool stdout_tty = false;  // Default: false
  bool stderr_tty = false;  // Default: false

  // The real process's descriptors 0-2, by isatty.
  static Terminal of_process();
};

// Runs one command line; `args` excludes the program name. Returns the exit code (exit_code.hpp,
// docs/cli.md): 0 ok, 1 not found / miss, 2 usage, 3 server unreachable, 4 auth refused,
// 5 server error, 6 a refusal (health degraded, rate-limited), 7 unhealthy.
// Values read (set) come from `in`; everything a script consumes goes to `out`; messages,
// progress and errors to `err`.
int run(std::vector<std::string> args, std::istream& in, std::ostream& out, std::ostream& err,
        Terminal terminal = {});

}  // namespace tiercache::cli
