// tiercached: parse the command line, run the daemon until SIGTERM or SIGINT.

#include "server/command_line.hpp"
#include "server/daemon.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace tiercache::server;
  auto cl = parse_command_line(argc, argv, std::cout, std::cerr);
  if (!cl.config) return cl.exit_code;
  try {
    Daemon daemon(std::move(*cl.config));
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
