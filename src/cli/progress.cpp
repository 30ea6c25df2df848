#include "cli/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace tiercache::cli {

ProgressBar::ProgressBar(std::ostream& err, bool enabled, std::string label, std::uint64_t total,
                         std::chrono::milliseconds total_time)
    : err_(err),
      enabled_(enabled),
      label_(std::move(label)),
      total_(total),
      total_time_(total_time),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

void ProgressBar::update(std::uint64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw();
  err_ << "\n" << std::flush;
}

void ProgressBar::draw() {
  constexpr int kWidth = 30;
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  double fraction = 0;
  if (total_ > 0) {
    fraction = static_cast<double>(done_) / static_cast<double>(total_);
  } else if (total_time_.count() > 0) {
    fraction = seconds / std::chrono::duration<double>(total_time_).count();
  }
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  char counts[96];
  if (total_ > 0) {
    std::snprintf(counts, sizeof counts, "%llu/%llu  %3.0f%%  %.1f s",
                  static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_),
                  fraction * 100, seconds);
  } else {
    std::snprintf(counts, sizeof counts, "%llu  %.1f s", static_cast<unsigned long long>(done_),
                  seconds);
  }
  // \r and erase-line: redraw in place.
  err_ << "\r\x1b[2K" << label_ << "  [" << bar << "]  " << counts << std::flush;
}

}  // namespace tiercache::cli
