// demo_upstream: a small, real, slow HTTP/1.1 JSON API for the caching proxy's demo and its
// end-to-end tests (issue #7). Every answer waits --delay-ms (an Asio timer, so concurrent
// requests overlap), its content is derived from the query parameters (same question, same
// answer), and it carries `served_at` and a per-path `call` number, so a fresh upstream answer
// can be told from a cached one.
//
//   demo_upstream [--listen HOST:PORT] [--delay-ms N] [--threads N]  (127.0.0.1:9090, 200, 1)
//   curl -i 'http://127.0.0.1:9090/weather?city=Paris'
//   curl -X POST 'http://127.0.0.1:9090/_demo/mode?status=503&delay_ms=1000'
//
// The first line on stdout is `listening on 127.0.0.1:<port>` (port 0 picks a free one); then
// one line per request: method, target, status, milliseconds. SIGTERM or SIGINT: exit 0.
//
// Endpoints (GET; JSON; a missing parameter is a 400, an unknown path a 404, both JSON errors
// {"error":{"code":..,"message":..}} as tiercached answers):
//   /weather?city=C                                    Cache-Control: public, max-age=60
//   /events?location=L&date=YYYY-MM-DD[&category=K]    3 to 8 events
//   /flights?origin=O&destination=D&date=YYYY-MM-DD[&adults=N]
// Control (no delay, not counted):
//   GET  /_demo/stats                  {"requests":total,"by_path":{"/weather":n,...}}
//   POST /_demo/mode?status=503        every other request answers 503 until status=0;
//                  [&delay_ms=N]       changes the delay. Answers the mode; GET reads it.
//   POST /_demo/reset                  counters (and so `call`) back to 0
// A data request counts, and waits the delay, whatever it answers (404 and 503 included).
// One file past 600 lines on purpose: every examples/*.cpp is one self-contained program.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::int64_t kMaxDelayMs = 600'000;

// The data endpoints, in the order of State::by_path.
constexpr std::array<std::string_view, 3> kPaths = {"/weather", "/events", "/flights"};

// What every connection shares. Thread-safety: atomics only, so any thread may touch it.
struct State {
  std::atomic<std::int64_t> delay_ms{200};
  std::atomic<int> status{0};  // 0: answer normally; else every data request answers this
  std::atomic<std::uint64_t> requests{0};
  std::array<std::atomic<std::uint64_t>, kPaths.size()> by_path{};
};

// A request's path and decoded query parameters, owned (the request may move or die meanwhile).
struct Query {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;

  // The first non-empty value of `key`.
  std::optional<std::string> get(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key && !v.empty()) return v;
    }
    return std::nullopt;
  }
};

// A response before its headers: status and JSON body.
struct Answer {
  http::status status = http::status::ok;
  json::object body;
  bool cacheable = false;  // adds Cache-Control: public, max-age=60
  std::string allow{};     // the Allow header of a 405
};

Answer error(http::status status, std::string_view code, std::string_view message) {
  Answer a{.status = status};
  json::object e;
  e["code"] = code;
  e["message"] = message;
  a.body["error"] = std::move(e);
  return a;
}

Answer missing(std::string_view name) {
  return error(http::status::bad_request, "missing_parameter",
               "the query parameter '" + std::string(name) + "' is required");
}

Answer invalid(std::string_view name, std::string_view why) {
  return error(http::status::bad_request, "invalid_parameter",
               "the query parameter '" + std::string(name) + "' " + std::string(why));
}

// An integer spelled in full in `text`, within [lo, hi].
std::optional<std::int64_t> parse_int(std::string_view text, std::int64_t lo, std::int64_t hi) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
    return std::nullopt;
  }
  return v;
}

// A calendar date spelled YYYY-MM-DD.
std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = parse_int(text.substr(0, 4), 1970, 9999);
  const auto m = parse_int(text.substr(5, 2), 1, 12);
  const auto d = parse_int(text.substr(8, 2), 1, 31);
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{static_cast<int>(*y)},
                                        std::chrono::month{static_cast<unsigned>(*m)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

// strftime over a UTC time point, e.g. "%Y-%m-%dT%H:%M:%S".
std::string utc(std::chrono::system_clock::time_point t, const char* format) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), format, &tm);
  return std::string(buf.data(), n);
}

// RFC 3339 in UTC with milliseconds: 2026-12-01T08:30:00.123Z.
std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  std::array<char, 16> frac{};
  std::snprintf(frac.data(), frac.size(), ".%03dZ", static_cast<int>(ms.count() % 1000));
  return utc(now, "%Y-%m-%dT%H:%M:%S") + frac.data();
}

// FNV-1a over the fields, then splitmix64 steps: the same parameters give the same content.
class Rng {
 public:
  explicit Rng(std::initializer_list<std::string_view> fields) {
    for (auto f : fields) {
      for (char c : f) state_ = (state_ ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
      state_ = (state_ ^ 0x1fU) * 0x100000001b3ULL;
    }
  }
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }
  // Uniform enough in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  template <class Array>
  auto pick(const Array& a) {
    return a[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(a.size()) - 1))];
  }

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

std::string at_time(std::chrono::sys_days day, std::chrono::minutes since_midnight) {
  return utc(day + since_midnight, "%Y-%m-%dT%H:%M:00Z");
}

Answer weather(const Query& q) {
  const auto city = q.get("city");
  if (!city) return missing("city");
  constexpr std::array<std::string_view, 7> kConditions = {
      "sunny", "partly cloudy", "cloudy", "light rain", "heavy rain", "fog", "snow"};
  Rng rng({"weather", *city});
  Answer a;
  a.cacheable = true;
  a.body["city"] = *city;
  a.body["temperature_c"] = rng.between(-10, 35);
  a.body["conditions"] = rng.pick(kConditions);
  a.body["humidity_pct"] = rng.between(20, 100);
  a.body["wind_kph"] = rng.between(0, 60);
  return a;
}

Answer events(const Query& q) {
  const auto location = q.get("location");
  const auto date = q.get("date");
  if (!location) return missing("location");
  if (!date) return missing("date");
  const auto day = parse_date(*date);
  if (!day) return invalid("date", "must be a date, YYYY-MM-DD");
  const auto category = q.get("category");
  constexpr std::array<std::string_view, 6> kCategories = {"music", "theatre", "sport",
                                                           "food",  "art",     "tech"};
  constexpr std::array<std::string_view, 8> kAdjectives = {
      "Midnight", "Open-air", "Grand", "Little", "Late", "Riverside", "Winter", "Neighbourhood"};
  constexpr std::array<std::string_view, 6> kNouns = {"Concert", "Show",     "Festival",
                                                      "Market",  "Workshop", "Meetup"};

  Rng rng({"events", *location, *date, category.value_or("")});
  struct Event {
    std::string id, title, category, start;
    std::int64_t score;
  };
  std::vector<Event> list(static_cast<std::size_t>(rng.between(3, 8)));
  for (auto& e : list) {
    std::array<char, 24> id{};
    std::snprintf(id.data(), id.size(), "ev-%012llx",
                  static_cast<unsigned long long>(rng.next() & 0xffffffffffffULL));
    e.id = id.data();
    e.category = category ? *category : std::string(rng.pick(kCategories));
    e.title = std::string(rng.pick(kAdjectives)) + " " + std::string(rng.pick(kNouns)) + " in " +
              *location;
    e.start = at_time(*day, std::chrono::minutes(rng.between(10 * 4, 22 * 4) * 15));
    e.score = rng.between(1, 100);
  }
  std::sort(list.begin(), list.end(), [](const Event& x, const Event& y) {
    return x.start != y.start ? x.start < y.start : x.id < y.id;
  });
  json::array out;
  for (const auto& e : list) {
    json::object o;
    o["id"] = e.id;
    o["title"] = e.title;
    o["category"] = e.category;
    o["start"] = e.start;
    o["score"] = e.score;
    out.push_back(std::move(o));
  }
  Answer a;
  a.body["location"] = *location;
  a.body["date"] = *date;
  if (category) a.body["category"] = *category;
  a.body["events"] = std::move(out);
  return a;
}

Answer flights(const Query& q) {
  const auto origin = q.get("origin");
  const auto destination = q.get("destination");
  const auto date = q.get("date");
  if (!origin) return missing("origin");
  if (!destination) return missing("destination");
  if (!date) return missing("date");
  const auto day = parse_date(*date);
  if (!day) return invalid("date", "must be a date, YYYY-MM-DD");
  if (*origin == *destination) return invalid("destination", "must differ from the origin");
  std::int64_t adults = 1;
  if (const auto text = q.get("adults")) {
    const auto n = parse_int(*text, 1, 9);
    if (!n) return invalid("adults", "must be an integer from 1 to 9");
    adults = *n;
  }
  struct Airline {
    std::string_view code, name;
  };
  constexpr std::array<Airline, 6> kAirlines = {{{"BA", "British Airways"},
                                                 {"AA", "American Airlines"},
                                                 {"DL", "Delta"},
                                                 {"UA", "United"},
                                                 {"AF", "Air France"},
                                                 {"LH", "Lufthansa"}}};

  Rng rng({"flights", *origin, *destination, *date});
  struct Flight {
    json::object o;
    std::int64_t price;
  };
  std::vector<Flight> list(static_cast<std::size_t>(rng.between(2, 8)));
  for (auto& f : list) {
    const Airline airline = rng.pick(kAirlines);
    const auto depart = std::chrono::minutes(rng.between(6 * 12, 23 * 12) * 5);
    const auto duration = std::chrono::minutes(rng.between(12, 180) * 5);
    const std::int64_t stops = rng.between(0, 2);
    f.price = rng.between(80, 1200) * adults;
    f.o["flight"] = std::string(airline.code) + std::to_string(rng.between(100, 9999));
    f.o["airline"] = airline.name;
    f.o["origin"] = *origin;
    f.o["destination"] = *destination;
    f.o["depart"] = at_time(*day, depart);
    f.o["arrive"] = at_time(*day, depart + duration);
    f.o["duration_min"] = duration.count();
    f.o["stops"] = stops;
    f.o["price"] = f.price;
    f.o["currency"] = "USD";
  }
  std::stable_sort(list.begin(), list.end(),
                   [](const Flight& x, const Flight& y) { return x.price < y.price; });
  json::array out;
  for (auto& f : list) out.push_back(std::move(f.o));
  Answer a;
  a.body["origin"] = *origin;
  a.body["destination"] = *destination;
  a.body["date"] = *date;
  a.body["adults"] = adults;
  a.body["count"] = out.size();
  a.body["results"] = std::move(out);
  return a;
}

json::object stats(const State& state) {
  json::object by_path;
  for (std::size_t i = 0; i < kPaths.size(); ++i) by_path[kPaths[i]] = state.by_path[i].load();
  json::object o;
  o["requests"] = state.requests.load();
  o["by_path"] = std::move(by_path);
  return o;
}

json::object mode(const State& state) {
  json::object o;
  o["status"] = state.status.load();
  o["delay_ms"] = state.delay_ms.load();
  return o;
}

// POST /_demo/mode: both parameters checked before either applies.
Answer set_mode(State& state, const Query& q) {
  std::optional<std::int64_t> status, delay;
  if (const auto text = q.get("status")) {
    status = parse_int(*text, 0, 599);
    if (!status || (*status != 0 && *status < 200)) {
      return invalid("status", "must be 0 (normal) or an HTTP status from 200 to 599");
    }
  }
  if (const auto text = q.get("delay_ms")) {
    delay = parse_int(*text, 0, kMaxDelayMs);
    if (!delay) return invalid("delay_ms", "must be an integer from 0 to 600000");
  }
  if (status) state.status = static_cast<int>(*status);
  if (delay) state.delay_ms = *delay;
  return Answer{.body = mode(state)};
}

Answer method_not_allowed(http::verb method, std::string_view allowed) {
  Answer a = error(http::status::method_not_allowed, "method_not_allowed",
                   std::string(http::to_string(method)) +
                       " is not allowed here; allowed: " + std::string(allowed));
  a.allow = allowed;
  return a;
}

Answer control(State& state, http::verb method, const Query& q) {
  if (q.path == "/_demo/stats") {
    if (method != http::verb::get) return method_not_allowed(method, "GET");
    return Answer{.body = stats(state)};
  }
  if (q.path == "/_demo/mode") {
    if (method == http::verb::get) return Answer{.body = mode(state)};
    if (method != http::verb::post) return method_not_allowed(method, "GET, POST");
    return set_mode(state, q);
  }
  if (q.path == "/_demo/reset") {
    if (method != http::verb::post) return method_not_allowed(method, "POST");
    state.requests = 0;
    for (auto& n : state.by_path) n = 0;
    return Answer{.body = stats(state)};
  }
  return error(http::status::not_found, "not_found", "no such control path: " + q.path);
}

// A data request: counted, delayed, then answered (or failed, in a 503 mode).
[[nodiscard]] asio::awaitable<Answer> serve(std::shared_ptr<State> state, http::verb method,
                                            Query q) {
  ++state->requests;
  const auto* it = std::find(kPaths.begin(), kPaths.end(), q.path);
  const auto index = static_cast<std::size_t>(it - kPaths.begin());
  const std::uint64_t call = it != kPaths.end() ? ++state->by_path[index] : 0;

  asio::steady_timer timer(co_await asio::this_coro::executor,
                           std::chrono::milliseconds(state->delay_ms.load()));
  co_await timer.async_wait(use_tuple);

  if (const int status = state->status.load(); status != 0) {
    co_return error(static_cast<http::status>(status), "demo_mode",
                    "the demo upstream is set to answer " + std::to_string(status) +
                        " (POST /_demo/mode?status=0 restores it)");
  }
  if (it == kPaths.end()) {
    co_return error(http::status::not_found, "not_found", "no such path: " + q.path);
  }
  if (method != http::verb::get) co_return method_not_allowed(method, "GET");
  Answer a = index == 0 ? weather(q) : index == 1 ? events(q) : flights(q);
  if (a.status == http::status::ok) {
    a.body["served_at"] = rfc3339_now();
    a.body["call"] = call;
  }
  co_return a;
}

[[nodiscard]] asio::awaitable<Response> handle(std::shared_ptr<State> state, Request req) {
  Answer a;
  const auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) {
    a = error(http::status::bad_request, "bad_target",
              "the request target is not a valid path: " + parsed.error().message());
  } else {
    Query q{parsed->path(), {}};
    for (const auto& p : parsed->params()) q.params.emplace_back(p.key, p.value);
    if (q.path.starts_with("/_demo/")) {
      a = control(*state, req.method(), q);
    } else {
      a = co_await serve(state, req.method(), std::move(q));
    }
  }
  Response res{a.status, req.version()};
  res.set(http::field::server, "demo_upstream");
  res.set(http::field::date, utc(std::chrono::system_clock::now(), "%a, %d %b %Y %H:%M:%S GMT"));
  res.set(http::field::content_type, "application/json");
  if (a.cacheable) res.set(http::field::cache_control, "public, max-age=60");
  if (!a.allow.empty()) res.set(http::field::allow, a.allow);
  res.body() = json::serialize(a.body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  co_return res;
}

// One line per request on stdout, flushed (a test or a script may be reading it).
void log_line(std::string_view method, std::string_view target, unsigned status,
              std::chrono::steady_clock::duration took) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  const std::string line = std::string(method) + " " + std::string(target) + " " +
                           std::to_string(status) + " " + std::to_string(ms) + "ms\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

asio::awaitable<void> run_session(std::shared_ptr<State> state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(60s);  // an idle keep-alive connection is closed after a minute
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    const auto start = std::chrono::steady_clock::now();
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        Response res{http::status::bad_request, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = json::serialize(
            error(http::status::bad_request, "bad_request", "malformed request: " + ec.message())
                .body);
        res.keep_alive(false);
        res.prepare_payload();
        stream.expires_after(5s);
        co_await http::async_write(stream, res, use_tuple);
        log_line("-", "-", 400, std::chrono::steady_clock::now() - start);
      }
      break;
    }
    Request req = parser.release();
    const std::string method(req.method_string());
    const std::string target(req.target());
    Response res = co_await handle(state, std::move(req));
    stream.expires_after(30s);
    std::tie(ec, n) = co_await http::async_write(stream, res, use_tuple);
    log_line(method, target, res.result_int(), std::chrono::steady_clock::now() - start);
    if (ec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

void report_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "demo_upstream: connection failed: %s\n", x.what());
  }
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state, tcp::acceptor acceptor) {
  const auto ex = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ex), use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and friends: wait for connections to close rather than spin.
      std::fprintf(stderr, "demo_upstream: accept failed: %s\n", ec.message().c_str());
      asio::steady_timer pause(ex, 50ms);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    const auto session_ex = socket.get_executor();
    asio::co_spawn(session_ex, run_session(state, std::move(socket)), report_exception);
  }
}

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto host = ep.address().to_string();
  const auto port = std::to_string(ep.port());
  return ep.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

// HOST:PORT or [V6]:PORT; a host name is resolved (the first address wins).
tcp::endpoint parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected HOST:PORT");
  std::string host = text.substr(0, colon);
  const auto port = parse_int(std::string_view(text).substr(colon + 1), 0, 65535);
  if (!port) throw std::invalid_argument("the port must be a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const auto port16 = static_cast<std::uint16_t>(*port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) return {address, port16};
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port16), ec);
  if (ec || results.empty()) throw std::invalid_argument("cannot resolve '" + host + "'");
  return results.begin()->endpoint();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "demo_upstream: a slow JSON API (weather, events, flights) for the caching proxy's demo "
      "and tests. See the top of examples/demo_upstream.cpp for its endpoints.",
      "demo_upstream"};
  std::string listen = "127.0.0.1:9090";
  std::int64_t delay_ms = 200;
  int threads = 1;
  app.add_option("--listen", listen, "address to listen on, HOST:PORT; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--delay-ms", delay_ms, "how long every data request waits before it answers")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, kMaxDelayMs));
  app.add_option("--threads", threads, "threads running the one io_context")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  try {
    const tcp::endpoint endpoint = parse_listen(listen);
    asio::io_context io(threads);
    auto state = std::make_shared<State>();
    state->delay_ms = delay_ms;

    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    const std::string line = "listening on " + endpoint_text(acceptor.local_endpoint()) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io](beast::error_code ec, int) {
      if (!ec) io.stop();
    });
    asio::co_spawn(io, accept_loop(state, std::move(acceptor)), report_exception);

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
    std::fputs("demo_upstream stopped\n", stdout);
    std::fflush(stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "demo_upstream: %s: %s\n", listen.c_str(), e.what());
    return 1;
  }
}
