// tiercache: the command-line tool for tiercached. Everything is in run.cpp and the commands.

#include "cli/run.hpp"

#include <iostream>

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  return tiercache::cli::run(std::move(args), std::cin, std::cout, std::cerr,
                             tiercache::cli::Terminal::of_process());
}
