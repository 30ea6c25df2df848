#pragma once
// ProgressBar: "warm  [#######.....]  700/1000  70%  1.2 s" redrawn in place on a terminal's
// stderr, at most ten times a second; silent when stderr is not a terminal (pipes, logs, tests).
// Use: ProgressBar bar(err, enabled, "warm", total); bar.update(done); ... bar.finish();
// Thread-safety: not thread-safe; bench's workers report through one thread.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace tiercache::cli {

class ProgressBar {
 public:
  // total 0: unknown (a bar of elapsed time is drawn against `total_time` instead, when given).
  ProgressBar(std::ostream& err, bool enabled, std::string label, std::uint64_t total,
              std::chrono::milliseconds total_time = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::uint64_t done);
  // Draws the last state and ends the line.
  void finish();

 private:
  void draw();

  std::ostream& err_;
  bool enabled_;
  std::string label_;
  std::uint64_t total_;
  std::chrono::milliseconds total_time_;
  std::uint64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool finished_ = false;
};

}  // namespace tiercache::cli
