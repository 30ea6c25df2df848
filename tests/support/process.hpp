#pragma once
// Child processes for the harness: start a program by path, run one to completion with its
// output captured, reap with a deadline. Children start with a clean signal mask, stdin from
// /dev/null and no descriptors but 0-2, so they never hold a test's sockets open.
// Thread-safety: the functions are safe from any thread (fork + exec, nothing shared).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace tiercache::test {

// The executable `name` found in PATH. Throws std::runtime_error if there is none.
std::filesystem::path find_program(const std::string& name);

// Starts argv[0] (a path) with stdout and stderr appended to `output`. With die_with_parent
// the child gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG); use it only from a
// thread that lives as long as the process. Throws if fork fails.
pid_t spawn_process(const std::vector<std::string>& argv, const std::filesystem::path& output,
                    bool die_with_parent);

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved
};
// Runs argv[0] (a path) to completion, killing it (by pid) after `timeout`.
RunResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Waits up to `timeout` for the child `pid` to end and reaps it; true if it is gone.
bool reap(pid_t pid, std::chrono::milliseconds timeout, int* status = nullptr);

// Removes spaces and newlines from both ends.
std::string trim(std::string text);

}  // namespace tiercache::test
