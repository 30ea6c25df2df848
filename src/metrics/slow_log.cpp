#include "tiercache/metrics/slow_log.hpp"

#include <stdexcept>

namespace tiercache::metrics {

namespace {

// The longest prefix of s of at most n bytes that does not end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t n) {
  if (s.size() <= n) return s;
  std::size_t end = n;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

SlowLog::SlowLog(SlowLogOptions options, const Clock& clock)
    : max_key_bytes_(options.max_key_bytes),
      clock_(clock),
      threshold_(options.threshold.count()),
      ring_(options.capacity) {
  if (options.capacity == 0) throw std::invalid_argument("SlowLog: capacity must be >= 1");
}

void SlowLog::record_slow(std::string_view operation, std::string_view key,
                          Clock::duration duration, std::string_view detail) {
  const auto now = clock_.wall_now();
  const auto cut = utf8_prefix(key, max_key_bytes_);
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  auto& e = ring_[(id - 1) % ring_.size()];
  e.id = id;
  e.time = now;
  e.operation.assign(operation);
  e.key.assign(cut);
  e.key_truncated = cut.size() < key.size();
  e.duration = duration;
  e.detail.assign(detail);
  if (held_ < ring_.size()) ++held_;
}

std::vector<SlowLogEntry> SlowLog::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<SlowLogEntry> out;
  out.reserve(held_);
  for (std::size_t i = 0; i < held_; ++i) {
    // next_id_ - 1 is the newest; its slot is (next_id_ - 2) % size.
    const std::uint64_t id = next_id_ - 1 - i;
    out.push_back(ring_[(id - 1) % ring_.size()]);
  }
  return out;
}

std::uint64_t SlowLog::recorded() const noexcept {
  std::lock_guard lock(mu_);
  return next_id_ - 1;
}

void SlowLog::clear() {
  std::lock_guard lock(mu_);
  held_ = 0;
}

}  // namespace tiercache::metrics
