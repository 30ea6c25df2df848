#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace tiercache::test {
namespace {

using Clock = std::chrono::steady_clock;

// Everything the child needs, prepared before fork: after fork only async-signal-safe calls.
struct ChildSetup {
  std::vector<std::string> args;
  std::vector<char*> argv;
  const char* output_path = nullptr;  // append stdout+stderr here, or
  int output_fd = -1;                 // dup this one onto them
  bool die_with_parent = false;
  pid_t parent = 0;

  explicit ChildSetup(const std::vector<std::string>& a) : args(a) {
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
  }
};

[[noreturn]] void exec_child(const ChildSetup& setup) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): one thread here
  if (setup.die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != setup.parent) _exit(127);
  }
  const int in = open("/dev/null", O_RDONLY);
  const int out = setup.output_fd >= 0
                      ? setup.output_fd
                      : open(setup.output_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (in < 0 || out < 0) _exit(127);
  dup2(in, 0);
  dup2(out, 1);
  dup2(out, 2);
  if (close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 4096; ++fd) close(fd);
  }
  execv(setup.argv[0], setup.argv.data());
  _exit(127);
}

pid_t fork_child(const ChildSetup& setup) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed: errno " + std::to_string(errno));
  if (pid == 0) exec_child(setup);
  return pid;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::filesystem::path find_program(const std::string& name) {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): tests never setenv
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    std::size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(begin, end - begin)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  throw std::runtime_error(name + " not found in PATH (scripts/install-deps.sh installs it)");
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::filesystem::path& output,
                    bool die_with_parent) {
  ChildSetup setup(argv);
  const std::string output_path = output.string();
  setup.output_path = output_path.c_str();
  setup.die_with_parent = die_with_parent;
  setup.parent = getpid();
  return fork_child(setup);
}

RunResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  ChildSetup setup(argv);
  setup.output_fd = fds[1];
  pid_t pid = -1;
  try {
    pid = fork_child(setup);
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  close(fds[1]);

  RunResult result;
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (!reap(pid, std::chrono::seconds(5), &status)) {
    kill(pid, SIGKILL);
    reap(pid, std::chrono::seconds(5), &status);
  }
  result.exit_code = exit_code(status);
  return result;
}

bool reap(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int st = 0;
    const pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      if (status != nullptr) *status = st;
      return true;
    }
    if (r < 0 && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20'000));
  }
}

std::string trim(std::string text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.back())) text.pop_back();
  std::size_t first = 0;
  while (first < text.size() && is_space(text[first])) ++first;
  return text.substr(first);
}

}  // namespace tiercache::test
