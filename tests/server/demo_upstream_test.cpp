// examples/demo_upstream as a process, over loopback: it prints its port first, answers each
// endpoint with deterministic JSON, applies its delay without blocking (concurrent requests
// overlap), counts per path, switches to a 503 mode and back, and exits 0 on SIGTERM. The
// caching proxy's tests (issue #7) build on it. Skipped when the examples are not built.

#include "tests/server/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::test {
namespace {

const std::filesystem::path kBinary = demo_upstream_binary();

using Clock = std::chrono::steady_clock;
using V = http::verb;
namespace json = boost::json;

// A running demo_upstream on a port of its choosing. Kills only its own child, by pid, if the
// test did not stop it.
class DemoUpstream {
 public:
  explicit DemoUpstream(std::vector<std::string> flags = {"--delay-ms", "0"}) {
    static std::atomic<int> serial{0};
    log_ = std::filesystem::temp_directory_path() /
           ("demo_upstream_test_" + std::to_string(::getpid()) + "_" + std::to_string(++serial) +
            ".log");
    std::vector<std::string> argv{kBinary.string(), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    pid_ = spawn_process(argv, log_, true);
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    const std::regex first_line(R"(^listening on 127\.0\.0\.1:(\d+)\n)");
    while (Clock::now() < deadline) {
      std::smatch m;
      const std::string out = output();
      if (std::regex_search(out, m, first_line)) {
        port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~DemoUpstream() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap(pid_, std::chrono::seconds(10));
    }
    std::error_code ec;
    std::filesystem::remove(log_, ec);
  }
  DemoUpstream(const DemoUpstream&) = delete;
  DemoUpstream& operator=(const DemoUpstream&) = delete;

  std::uint16_t port() const { return port_; }

  // Sends `signal` and waits for the exit: its code, 128 + signal if killed, -1 if it hung.
  int stop(int signal = SIGTERM) {
    ::kill(pid_, signal);
    int status = 0;
    if (!reap(pid_, std::chrono::seconds(20), &status)) return -1;
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  }

  // Whether its output matches `pattern` within 10 s (a request's log line follows its response).
  bool logged(const std::string& pattern) const {
    const std::regex re(pattern);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!std::regex_search(output(), re)) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // Everything it wrote to stdout and stderr so far.
  std::string output() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

class DemoUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kBinary.empty() || !std::filesystem::exists(kBinary)) {
      GTEST_SKIP() << "demo_upstream is not built (" << kBinary << ")";
    }
  }
};

json::object body(const HttpResponse& res) { return HttpClient::json(res).as_object(); }

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The body without the fields that differ between two answers to the same question.
json::object content(json::object o) {
  o.erase("served_at");
  o.erase("call");
  return o;
}

TEST_F(DemoUpstreamTest, PrintsItsPortOnTheFirstLineAndLogsEachRequest) {
  DemoUpstream up;
  ASSERT_NE(up.port(), 0) << up.output();
  HttpClient c(up.port());
  ASSERT_EQ(c.request(V::get, "/weather?city=Paris").result(), http::status::ok);
  ASSERT_EQ(c.request(V::get, "/nope").result(), http::status::not_found);
  EXPECT_TRUE(up.logged(R"(\nGET /weather\?city=Paris 200 \d+ms\n)")) << up.output();
  EXPECT_TRUE(up.logged(R"(\nGET /nope 404 \d+ms\n)")) << up.output();
  const std::string out = up.output();
  EXPECT_EQ(out.rfind("listening on 127.0.0.1:" + std::to_string(up.port()) + "\n", 0), 0u) << out;
}

TEST_F(DemoUpstreamTest, WeatherIsCacheableAndSameForTheSameCity) {
  DemoUpstream up;
  HttpClient c(up.port());
  const auto first = c.request(V::get, "/weather?city=Paris");
  ASSERT_EQ(first.result(), http::status::ok) << first.body();
  EXPECT_EQ(first[http::field::content_type], "application/json");
  EXPECT_EQ(first[http::field::cache_control], "public, max-age=60");
  EXPECT_FALSE(first[http::field::date].empty());
  EXPECT_TRUE(first.keep_alive());
  const auto a = body(first);
  EXPECT_EQ(a.at("city").as_string(), "Paris");
  EXPECT_TRUE(a.at("temperature_c").is_int64());
  EXPECT_FALSE(a.at("conditions").as_string().empty());
  EXPECT_TRUE(std::regex_match(std::string(a.at("served_at").as_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << a.at("served_at");
  EXPECT_EQ(a.at("call").to_number<int>(), 1);

  const auto b = body(c.request(V::get, "/weather?city=Paris"));
  EXPECT_EQ(b.at("call").to_number<int>(), 2);
  EXPECT_EQ(content(a), content(b));
}

TEST_F(DemoUpstreamTest, EventsListThreeToEightEventsOfTheCategoryAsked) {
  DemoUpstream up;
  HttpClient c(up.port());
  const auto res = c.request(V::get, "/events?location=Paris&date=2026-12-01&category=music");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_TRUE(res[http::field::cache_control].empty());
  const auto a = body(res);
  EXPECT_EQ(a.at("location").as_string(), "Paris");
  EXPECT_EQ(a.at("date").as_string(), "2026-12-01");
  const auto& events = a.at("events").as_array();
  EXPECT_GE(events.size(), 3u);
  EXPECT_LE(events.size(), 8u);
  for (const auto& v : events) {
    const auto& e = v.as_object();
    EXPECT_EQ(e.at("category").as_string(), "music");
    EXPECT_FALSE(e.at("id").as_string().empty());
    EXPECT_FALSE(e.at("title").as_string().empty());
    EXPECT_EQ(std::string(e.at("start").as_string()).rfind("2026-12-01T", 0), 0u) << e;
    EXPECT_TRUE(e.at("score").is_int64());
  }
  const auto again =
      body(c.request(V::get, "/events?location=Paris&date=2026-12-01&category=music"));
  EXPECT_EQ(content(a), content(again));

  const auto any = c.request(V::get, "/events?location=Lyon&date=2026-12-01");
  ASSERT_EQ(any.result(), http::status::ok) << any.body();
  EXPECT_GE(body(any).at("events").as_array().size(), 3u);
}

TEST_F(DemoUpstreamTest, FlightsAnswerResultsAndTheirCount) {
  DemoUpstream up;
  HttpClient c(up.port());
  const auto res = c.request(V::get, "/flights?origin=LHR&destination=JFK&date=2026-12-01");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto a = body(res);
  const auto& results = a.at("results").as_array();
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(a.at("count").to_number<std::size_t>(), results.size());
  for (const auto& v : results) {
    const auto& f = v.as_object();
    EXPECT_FALSE(f.at("flight").as_string().empty());
    EXPECT_GT(f.at("price").to_number<int>(), 0);
    EXPECT_EQ(f.at("origin").as_string(), "LHR");
  }
  const auto two =
      c.request(V::get, "/flights?origin=LHR&destination=JFK&date=2026-12-01&adults=2");
  ASSERT_EQ(two.result(), http::status::ok) << two.body();
  const auto b = body(two);
  EXPECT_EQ(b.at("adults").to_number<int>(), 2);
  // The same flights, each at twice the price.
  ASSERT_EQ(b.at("count"), a.at("count"));
  EXPECT_EQ(b.at("results").as_array()[0].at("price").to_number<int>(),
            2 * results[0].at("price").to_number<int>());
}

TEST_F(DemoUpstreamTest, MissingOrBadParametersAre400AndUnknownPathsAre404) {
  DemoUpstream up;
  HttpClient c(up.port());
  for (const char* target : {"/weather", "/weather?city=", "/events?location=Paris",
                             "/flights?origin=LHR&date=2026-12-01"}) {
    const auto res = c.request(V::get, target);
    EXPECT_EQ(res.result(), http::status::bad_request) << target;
    EXPECT_EQ(HttpClient::error_code(res), "missing_parameter") << target << " " << res.body();
    EXPECT_EQ(res[http::field::content_type], "application/json");
  }
  for (const char* target : {"/events?location=Paris&date=tomorrow",
                             "/flights?origin=LHR&destination=JFK&date=2026-12-01&adults=0"}) {
    const auto res = c.request(V::get, target);
    EXPECT_EQ(res.result(), http::status::bad_request) << target;
    EXPECT_EQ(HttpClient::error_code(res), "invalid_parameter") << target << " " << res.body();
  }
  const auto missing = c.request(V::get, "/nope?city=Paris");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(HttpClient::error_code(missing), "not_found") << missing.body();
  const auto post = c.request(V::post, "/weather?city=Paris");
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET");
}

TEST_F(DemoUpstreamTest, AppliesTheDelayAndModeChangesIt) {
  DemoUpstream up({"--delay-ms", "300"});
  HttpClient c(up.port());
  auto t0 = Clock::now();
  ASSERT_EQ(c.request(V::get, "/weather?city=Oslo").result(), http::status::ok);
  EXPECT_GE(ms_since(t0), 290.0);

  const auto mode = c.request(V::post, "/_demo/mode?delay_ms=500");
  ASSERT_EQ(mode.result(), http::status::ok) << mode.body();
  EXPECT_EQ(body(mode).at("delay_ms").to_number<int>(), 500);
  t0 = Clock::now();
  ASSERT_EQ(c.request(V::get, "/weather?city=Oslo").result(), http::status::ok);
  EXPECT_GE(ms_since(t0), 490.0);
}

TEST_F(DemoUpstreamTest, ConcurrentRequestsOverlap) {
  DemoUpstream up({"--delay-ms", "300", "--threads", "1"});
  const auto port = up.port();
  ASSERT_NE(port, 0) << up.output();
  const auto t0 = Clock::now();
  std::vector<std::future<unsigned>> calls;
  for (int i = 0; i < 10; ++i) {
    calls.push_back(std::async(std::launch::async, [port, i] {
      HttpClient c(port);
      return c.request(V::get, "/weather?city=City" + std::to_string(i)).result_int();
    }));
  }
  for (auto& f : calls) EXPECT_EQ(f.get(), 200u);
  const double took = ms_since(t0);
  EXPECT_GE(took, 290.0);
  EXPECT_LT(took, 2000.0) << "10 requests of 300 ms each did not overlap";
  HttpClient c(port);
  EXPECT_EQ(body(c.request(V::get, "/_demo/stats")).at("requests").to_number<int>(), 10);
}

TEST_F(DemoUpstreamTest, StatsCountPerPathAndResetClearsThem) {
  DemoUpstream up({"--delay-ms", "0", "--threads", "2"});
  HttpClient c(up.port());
  c.request(V::get, "/weather?city=Paris");
  c.request(V::get, "/weather?city=Rome");
  c.request(V::get, "/events?location=Paris&date=2026-12-01");
  c.request(V::get, "/weather");  // a 400 reaches the upstream too
  c.request(V::get, "/nope");     // counted in the total only
  c.request(V::get, "/_demo/mode");

  const auto stats = c.request(V::get, "/_demo/stats");
  ASSERT_EQ(stats.result(), http::status::ok) << stats.body();
  const auto s = body(stats);
  EXPECT_EQ(s.at("requests").to_number<int>(), 5) << s;
  const auto& by_path = s.at("by_path").as_object();
  EXPECT_EQ(by_path.at("/weather").to_number<int>(), 3) << s;
  EXPECT_EQ(by_path.at("/events").to_number<int>(), 1) << s;
  EXPECT_EQ(by_path.at("/flights").to_number<int>(), 0) << s;

  const auto reset = c.request(V::post, "/_demo/reset");
  ASSERT_EQ(reset.result(), http::status::ok) << reset.body();
  EXPECT_EQ(body(reset).at("requests").to_number<int>(), 0);
  EXPECT_EQ(body(c.request(V::get, "/weather?city=Paris")).at("call").to_number<int>(), 1);
  EXPECT_EQ(body(c.request(V::get, "/_demo/stats")).at("requests").to_number<int>(), 1);
  EXPECT_EQ(c.request(V::get, "/_demo/reset").result(), http::status::method_not_allowed);
}

TEST_F(DemoUpstreamTest, Mode503AndBack) {
  DemoUpstream up;
  HttpClient c(up.port());
  const auto on = c.request(V::post, "/_demo/mode?status=503");
  ASSERT_EQ(on.result(), http::status::ok) << on.body();
  EXPECT_EQ(body(on).at("status").to_number<int>(), 503);

  for (const char* target :
       {"/weather?city=Paris", "/flights?origin=LHR&destination=JFK&date=2026-12-01"}) {
    const auto res = c.request(V::get, target);
    EXPECT_EQ(res.result(), http::status::service_unavailable) << target;
    EXPECT_EQ(HttpClient::error_code(res), "demo_mode") << res.body();
    EXPECT_TRUE(res[http::field::cache_control].empty());
  }
  EXPECT_EQ(c.request(V::get, "/_demo/stats").result(), http::status::ok);  // control still works
  EXPECT_EQ(body(c.request(V::get, "/_demo/mode")).at("status").to_number<int>(), 503);

  ASSERT_EQ(c.request(V::post, "/_demo/mode?status=0").result(), http::status::ok);
  const auto res = c.request(V::get, "/weather?city=Paris");
  EXPECT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(body(res).at("call").to_number<int>(), 2);

  for (const char* bad :
       {"/_demo/mode?status=42", "/_demo/mode?status=abc", "/_demo/mode?status=503&delay_ms=-1"}) {
    const auto r = c.request(V::post, bad);
    EXPECT_EQ(r.result(), http::status::bad_request) << bad;
    EXPECT_EQ(HttpClient::error_code(r), "invalid_parameter") << r.body();
  }
  // A rejected change changes nothing, not even its valid half.
  EXPECT_EQ(body(c.request(V::get, "/_demo/mode")).at("status").to_number<int>(), 0);
}

TEST_F(DemoUpstreamTest, SigtermAndSigintExitWithZero) {
  {
    DemoUpstream up;
    HttpClient c(up.port());
    ASSERT_EQ(c.request(V::get, "/weather?city=Paris").result(), http::status::ok);
    EXPECT_EQ(up.stop(SIGTERM), 0) << up.output();
    EXPECT_NE(up.output().find("demo_upstream stopped"), std::string::npos) << up.output();
  }
  {
    // A request waiting out its delay does not hold the exit up.
    DemoUpstream up({"--delay-ms", "10000"});
    auto pending = std::async(std::launch::async, [port = up.port()] {
      try {
        HttpClient c(port, std::chrono::seconds(15));
        c.request(V::get, "/weather?city=Paris");
      } catch (const boost::system::system_error&) {
      }
    });
    HttpClient c(up.port());
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (body(c.request(V::get, "/_demo/stats")).at("requests").to_number<int>() == 0 &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(up.stop(SIGINT), 0) << up.output();
    pending.get();
  }
}

TEST_F(DemoUpstreamTest, BadFlagsExitWithAnError) {
  const auto r = run_process({kBinary.string(), "--listen", "nonsense"}, std::chrono::seconds(20));
  EXPECT_NE(r.exit_code, 0) << r.output;
  const auto h = run_process({kBinary.string(), "--help"}, std::chrono::seconds(20));
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("--delay-ms"), std::string::npos) << h.output;
}

}  // namespace
}  // namespace tiercache::test
