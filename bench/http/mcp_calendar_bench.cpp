// mcp_calendar_bench: calendar_get_events (a hit) through tiercached's MCP server over Streamable
// HTTP at 16 concurrent sessions, and the same read through calendar::CalendarCache directly, in
// the same run, for the ratio (issue #8). It starts its own redis-server and a tiercached (the
// built binary, as a child process: the server's CPU is read from /proc, the client's with
// getrusage), stores one week of events for one location through calendar_store_events, then
// each session (its own keep-alive connection and MCP session) calls calendar_get_events for a
// 3-day range again and again; then as many coroutines read the same range via the library.
// Run: mcp_calendar_bench [calls-per-session [sessions]]   (defaults 2000 and 16)
// Env: TIERCACHED (default: ../src/server/tiercached next to this program).

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/redis/client.hpp"

#include "support/measure.hpp"
#include "support/private_redis.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace calendar = tiercache::calendar;
namespace bench = tiercache::bench;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kGetArgs =
    R"({"location": "paris", "from": "2026-05-02", "to": "2026-05-04"})";

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "mcp_calendar_bench: %s\n", why.c_str());
  std::exit(1);
}

// tiercached as a child process; SIGTERM and reaped on destruction; dies with us.
class Tiercached {
 public:
  Tiercached(const std::string& binary, const std::string& config, const std::string& log) {
    std::vector<std::string> args = {binary, "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) die("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Tiercached() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  // User + system CPU seconds the daemon has used (from /proc/<pid>/stat).
  double cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt (fields 3-13)
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  bool running() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

struct Reply {
  unsigned status = 0;
  std::string session;
  std::string body;
};

// One MCP client over one keep-alive connection.
class McpSession {
 public:
  explicit McpSession(tcp::endpoint at) : at_(at) {}

  asio::awaitable<bool> connect() {
    stream_.emplace(co_await asio::this_coro::executor);
    auto [ec] = co_await stream_->async_connect(at_, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }
  asio::awaitable<Reply> post(std::string body) {
    http::request<http::string_body> req{http::verb::post, "/mcp", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json, text/event-stream");
    if (!session_.empty()) {
      req.set("Mcp-Session-Id", session_);
      req.set("MCP-Protocol-Version", "2025-06-18");
    }
    req.body() = std::move(body);
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(*stream_, req, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return Reply{};
    http::response<http::string_body> res;
    auto [rec, rn] =
        co_await http::async_read(*stream_, buffer_, res, asio::as_tuple(asio::use_awaitable));
    if (rec) co_return Reply{};
    co_return Reply{res.result_int(), std::string(res["Mcp-Session-Id"]), std::move(res.body())};
  }
  asio::awaitable<bool> initialize() {
    auto r = co_await post(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",
        "capabilities":{},"clientInfo":{"name":"mcp_calendar_bench","version":"1"}}})");
    if (r.status != 200 || r.session.empty()) co_return false;
    session_ = r.session;
    auto n = co_await post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    co_return n.status == 202 || n.status == 200;
  }
  // tools/call; the result object, or null on any failure.
  asio::awaitable<json::value> call(std::string tool, std::string args) {
    std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(++id_) +
                       R"(,"method":"tools/call","params":{"name":")" + tool + R"(","arguments":)" +
                       args + "}}";
    auto r = co_await post(std::move(body));
    if (r.status != 200) co_return json::value();
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("result")) co_return json::value();
    co_return v.at("result");
  }

 private:
  tcp::endpoint at_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::string session_;
  std::int64_t id_ = 0;
};

bool is_hit(const json::value& result) {
  return result.is_object() && result.at("isError") == json::value(false) &&
         result.at("structuredContent").at("hit") == json::value(true);
}

std::string week_of_events() {
  json::array events;
  for (int day = 1; day <= 7; ++day) {
    for (int i = 0; i < 20; ++i) {
      char start[32];
      std::snprintf(start, sizeof start, "2026-05-%02dT%02d:%02d:00Z", day, 8 + i / 2,
                    (i % 2) * 30);
      events.push_back(
          json::object{{"id", "e" + std::to_string(day * 100 + i)},
                       {"title", "Event " + std::to_string(i) + " of day " + std::to_string(day)},
                       {"start", start},
                       {"categories", json::array{i % 2 ? "music" : "food"}},
                       {"score", (i * 37) % 100}});
    }
  }
  return json::serialize(json::object{{"location", "Paris"},
                                      {"from", "2026-05-01"},
                                      {"to", "2026-05-07"},
                                      {"events", std::move(events)}});
}

struct Run {
  std::vector<double> ms;
  std::atomic<int> failures{0};
};

asio::awaitable<void> mcp_client(tcp::endpoint at, int calls, Run* run) {
  McpSession s(at);
  if (!(co_await s.connect()) || !(co_await s.initialize())) {
    run->failures += calls;
    co_return;
  }
  for (int i = 0; i < 20; ++i) (void)co_await s.call("calendar_get_events", kGetArgs);  // warm
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    auto r = co_await s.call("calendar_get_events", kGetArgs);
    run->ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!is_hit(r)) ++run->failures;
  }
}

asio::awaitable<void> direct_client(calendar::CalendarCache* cal, int calls, Run* run) {
  const auto range = *calendar::parse_range("2026-05-02", "2026-05-04");
  for (int i = 0; i < 20; ++i) (void)co_await cal->get("paris", range);
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    auto r = co_await cal->get("paris", range);
    run->ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r || !r->hit) ++run->failures;
  }
}

// Stores the week through calendar_store_events; *stored says whether it was accepted.
asio::awaitable<void> store_week(tcp::endpoint at, bool* stored) {
  McpSession s(at);
  if (!(co_await s.connect()) || !(co_await s.initialize())) co_return;
  auto r = co_await s.call("calendar_store_events", week_of_events());
  *stored = r.is_object() && r.at("isError") == json::value(false);
  if (!*stored && r.is_object()) std::fprintf(stderr, "store: %s\n", json::serialize(r).c_str());
}

struct Figures {
  double calls_per_s, p50, p99, cpu_us;
  int failures;
};

void print(const char* path, int sessions, std::size_t calls, const Figures& f) {
  std::printf("| %-28s | %8d | %8zu | %10.0f | %7.3f | %7.3f | %9.1f | %d |\n", path, sessions,
              calls, f.calls_per_s, f.p50, f.p99, f.cpu_us, f.failures);
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int sessions = argc > 2 ? std::atoi(argv[2]) : 16;
  if (calls <= 0 || sessions <= 0) die("usage: mcp_calendar_bench [calls-per-session [sessions]]");
  std::printf("machine: %u cpus\n", std::thread::hardware_concurrency());
#if !defined(NDEBUG) || !defined(__OPTIMIZE__)
  std::printf("WARNING: not a Release build: figures are not representative\n");
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::printf("WARNING: built with a sanitizer\n");
#endif
  const char* env = std::getenv("TIERCACHED");
  const std::string binary =
      env != nullptr ? env
                     : (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() /
                        "src" / "server" / "tiercached")
                           .string();
  if (!std::filesystem::exists(binary)) die(binary + " not found; set TIERCACHED");

  bench::PrivateRedis redis;
  const auto port = bench::PrivateRedis::free_port();
  const auto dir =
      std::filesystem::temp_directory_path() / ("mcp_calendar_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto config = (dir / "tiercached.toml").string();
  std::ofstream(config) << "[server]\nlisten = \"127.0.0.1:" << port
                        << "\"\naccess_log = \"off\"\nlog_level = \"warn\"\nthreads = 2\n\n"
                        << "[redis]\nurl = \"redis://127.0.0.1:" << redis.port() << "\"\n\n"
                        << "[mcp]\nmax_sessions = 1000\n";
  Figures mcp{}, direct{};
  std::size_t mcp_calls = 0, direct_calls = 0;
  {
    Tiercached daemon(binary, config, (dir / "tiercached.log").string());
    const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);

    // Up, and the week stored through the tool.
    asio::io_context io;
    bool stored = false;
    for (int attempt = 0; attempt < 200 && !stored; ++attempt) {
      if (!daemon.running()) die("tiercached exited; see " + (dir / "tiercached.log").string());
      asio::co_spawn(io, store_week(at, &stored), asio::detached);
      io.run();
      io.restart();
      if (!stored) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!stored) die("calendar_store_events did not succeed");

    Run run;
    std::vector<Run> runs(static_cast<std::size_t>(sessions));
    for (auto& r : runs) r.ms.reserve(static_cast<std::size_t>(calls));
    const double client0 = bench::cpu_seconds();
    const double server0 = daemon.cpu_seconds();
    const auto t0 = Clock::now();
    for (auto& r : runs) asio::co_spawn(io, mcp_client(at, calls, &r), asio::detached);
    io.run();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = bench::cpu_seconds() - client0 + daemon.cpu_seconds() - server0;
    for (auto& r : runs) {
      run.ms.insert(run.ms.end(), r.ms.begin(), r.ms.end());
      run.failures += r.failures.load();
    }
    mcp_calls = run.ms.size();
    mcp = {static_cast<double>(mcp_calls) / secs, bench::percentile(run.ms, 0.5),
           bench::percentile(run.ms, 0.99), cpu * 1e6 / static_cast<double>(mcp_calls),
           run.failures.load()};
  }
  {
    // The same read through the library: one CalendarCache on its own tracked client.
    asio::io_context io;
    tiercache::redis::Config rc = redis.config();
    rc.client_tracking = true;
    auto client = std::make_shared<tiercache::redis::Client>(io.get_executor(), rc);
    calendar::CalendarCache cal(client, {});
    std::vector<Run> runs(static_cast<std::size_t>(sessions));
    for (auto& r : runs) r.ms.reserve(static_cast<std::size_t>(calls));
    const double cpu0 = bench::cpu_seconds();
    const auto t0 = Clock::now();
    std::atomic<int> done{0};
    for (auto& r : runs) {
      asio::co_spawn(io, direct_client(&cal, calls, &r), [&](std::exception_ptr) {
        if (++done == sessions) {
          client->stop();
          io.stop();
        }
      });
    }
    io.run();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = bench::cpu_seconds() - cpu0;
    Run run;
    for (auto& r : runs) {
      run.ms.insert(run.ms.end(), r.ms.begin(), r.ms.end());
      run.failures += r.failures.load();
    }
    direct_calls = run.ms.size();
    direct = {static_cast<double>(direct_calls) / secs, bench::percentile(run.ms, 0.5),
              bench::percentile(run.ms, 0.99), cpu * 1e6 / static_cast<double>(direct_calls),
              run.failures.load()};
  }
  std::filesystem::remove_all(dir);

  std::printf("calendar_get_events, paris 2026-05-02..04 (60 events), a hit; %d concurrent\n",
              sessions);
  std::printf(
      "| %-28s | sessions | calls    | calls/s    | p50 ms  | p99 ms  | CPU us/op | "
      "failed |\n",
      "path");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  print("MCP tools/call over HTTP", sessions, mcp_calls, mcp);
  print("CalendarCache::get (library)", sessions, direct_calls, direct);
  std::printf("ratio (MCP / library): throughput %.3f, p50 %.1fx, CPU per call %.1fx\n",
              mcp.calls_per_s / direct.calls_per_s, mcp.p50 / direct.p50,
              mcp.cpu_us / direct.cpu_us);
  std::printf(
      "MCP CPU = this process (the clients) + tiercached (/proc); library CPU = this "
      "process\n");
  return mcp.failures + direct.failures == 0 ? 0 : 1;
}
