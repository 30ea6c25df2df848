#include "server/access_log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace tiercache::server {
namespace {

// A logfmt value: bare when it has no space, quote, '=' or control byte; else quoted, escaped.
void append_value(std::string_view v, std::string& out) {
  bool plain = !v.empty();
  for (const char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) plain = false;
  }
  if (plain) {
    out.append(v);
    return;
  }
  out += '"';
  for (const char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

AccessLog::AccessLog(const std::string& destination) {
  if (destination == "off") return;
  if (destination == "stdout") {
    logger_ = std::make_shared<spdlog::logger>("access",
                                               std::make_shared<spdlog::sinks::stdout_sink_mt>());
  } else if (destination == "stderr") {
    logger_ = std::make_shared<spdlog::logger>("access",
                                               std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    logger_ = std::make_shared<spdlog::logger>(
        "access", std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination));
  }
  logger_->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %v", spdlog::pattern_time_type::utc);
  logger_->flush_on(spdlog::level::info);
}

void AccessLog::write(const AccessRecord& r) {
  if (!logger_) return;
  std::string line;
  line.reserve(128 + r.target.size());
  line += "method=";
  append_value(r.method, line);
  line += " path=";
  append_value(r.target, line);
  line += " status=" + std::to_string(r.status);
  line += " bytes=" + std::to_string(r.bytes);
  line += " duration_us=" + std::to_string(r.duration.count());
  line += " remote=";
  append_value(r.remote, line);
  logger_->info(line);
}

}  // namespace tiercache::server
