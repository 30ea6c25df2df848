#pragma once
// AccessLog: one structured line per request, in logfmt (key=value), so that both people and
// log shippers read it:  method=GET path=/v1/cache/users/42 status=200 bytes=17 duration_us=85
// remote=127.0.0.1:51012. Written through spdlog's async-safe sinks to stdout, stderr or a file;
// "off" writes nothing.
// Use: AccessLog log("stdout"); log.write({.method = "GET", ...});
// Thread-safety: safe from any thread (spdlog's _mt sinks).

#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace tiercache::server {

struct AccessRecord {
  std::string_view method;
  std::string_view target;
  unsigned status = 0;
  std::size_t bytes = 0;
  std::chrono::microseconds duration{};
  std::string_view remote;
};

class AccessLog {
 public:
  // destination: "stdout", "stderr", "off" or a file path (appended to). Throws
  // spdlog::spdlog_ex when the file cannot be opened.
  explicit AccessLog(const std::string& destination);
  void write(const AccessRecord& record);
  // Whether write() writes anything (false for "off"): callers skip building a record.
  bool enabled() const noexcept { return logger_ != nullptr; }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace tiercache::server
