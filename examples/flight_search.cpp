// flight_search: the two-tier cache in front of a slow flight-search upstream (seed 004), printing
// what each step did and how long it took.
//
//   flight_search [redis://host:port/db]    (else REDIS_URL, else REDIS_HOST/..., else :6379)
//
// Keys come from a KeySchema, TTLs from seed 004's policy table (10 min for a flight search,
// shorter close to departure). The upstream is simulated: 200 ms per search. Steps: a miss runs
// the loader, a repeat is an L1 hit, 100 concurrent callers of a new search share one load, a
// second instance (another process, in effect) reads it from Redis, invalidating the route's tag
// drops the search everywhere, a counter counts searches per route, and get_many reads a page.
// Exit status 0 when all went well, 1 when Redis could not be reached or a step failed, 2 for a
// bad URL.
#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/key_builder.hpp"
#include "tiercache/cache/ttl_policy.hpp"
#include "tiercache/redis/client.hpp"
#include "tiercache/redis/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace cache = tiercache::cache;
namespace redis = tiercache::redis;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<int> upstream_calls{0};

// The slow, metered upstream: 200 ms and one unit of quota per call.
asio::awaitable<tiercache::Result<std::string>> search_upstream(std::string route,
                                                                std::string date) {
  ++upstream_calls;
  asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
  co_await timer.async_wait(asio::use_awaitable);
  co_return R"({"route":")" + route + R"(","date":")" + date +
      R"(","offers":[{"airline":"AA","price":412.5},{"airline":"DL","price":398.0}]})";
}

// A loader must be a plain function returning the coroutine (not a capturing coroutine lambda).
cache::Loader loader_for(std::string route, std::string date) {
  return [route, date] { return search_upstream(route, date); };
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Demo {
  cache::Cache& cache;
  cache::Cache& other;  // a second instance: another process, in effect
  cache::KeySchema flights;
  cache::TtlPolicy ttl = cache::TtlPolicy::defaults();

  // The key and the load policy of a search: TTL by type and date, tagged by route.
  std::pair<std::string, cache::LoadPolicy> search(const std::string& from, const std::string& to,
                                                   const std::string& date) const {
    auto key = flights.build({{"origin", from}, {"destination", to}, {"departure_date", date}});
    const auto day = std::chrono::sys_days(std::chrono::floor<std::chrono::days>(
        std::chrono::system_clock::now() + std::chrono::days(45)));
    const auto t = ttl.ttl_for("flight_search", {.date = day});
    cache::LoadPolicy policy{.write = {.ttl = t.fresh,
                                       .grace = t.grace,
                                       .tags = {"route:" + upper(from) + "-" + upper(to)}}};
    return {key ? *key : std::string("invalid"), policy};
  }

  // One get_or_load of the JFK-LAX search on `on`, printed with its source and time.
  asio::awaitable<bool> step(const char* what, const std::string& key, cache::LoadPolicy policy,
                             cache::Cache& on) {
    const auto t0 = Clock::now();
    auto r = co_await on.get_or_load(key, loader_for("JFK-LAX", "2026-12-20"), policy);
    if (!r || !r->hit()) {
      std::printf("%-44s FAILED: %s\n", what, r ? "miss" : r.error().message().c_str());
      co_return false;
    }
    std::printf("%-44s %-6s %8.3f ms  upstream calls so far: %d\n", what,
                std::string(cache::to_string(r->source)).c_str(), ms_since(t0),
                upstream_calls.load());
    co_return true;
  }

  asio::awaitable<int> run() {
    auto [key, policy] = search("jfk", "lax", "2026-12-20");
    std::printf("key %s, fresh for %lld s (+%lld s grace)\n\n", key.c_str(),
                static_cast<long long>(policy.write.ttl->count() / 1000),
                static_cast<long long>(policy.write.grace->count() / 1000));
    if (!co_await step("1. first search: the loader runs", key, policy, cache)) co_return 1;
    // The load's own write invalidated the copy it put in L1 (docs/decisions/0007): the first
    // repeat reads Redis and fills L1 again; the next is an L1 hit.
    if (!co_await step("2. same search again: Redis, then L1", key, policy, cache)) co_return 1;
    if (!co_await step("   and again", key, policy, cache)) co_return 1;
    if (!co_await step("3. another instance: from Redis", key, policy, other)) co_return 1;

    auto [key2, policy2] = search("JFK", "SFO", "2026-12-21");
    const int before = upstream_calls.load();
    const auto t0 = Clock::now();
    auto ex = co_await asio::this_coro::executor;
    int ok = 0;
    std::atomic<int> finished{0};
    for (int i = 0; i < 100; ++i) {
      asio::co_spawn(ex, cache.get_or_load(key2, loader_for("JFK-SFO", "2026-12-21"), policy2),
                     [&](std::exception_ptr e, tiercache::Result<cache::ReadResult> r) {
                       if (!e && r && r->hit()) ++ok;
                       ++finished;
                     });
    }
    asio::steady_timer poll(ex);
    while (finished.load() < 100) {
      poll.expires_after(1ms);
      co_await poll.async_wait(asio::use_awaitable);
    }
    std::printf("%-44s %d/100 ok in %.1f ms, upstream calls: %d\n",
                "4. 100 concurrent callers, new search", ok, ms_since(t0),
                upstream_calls.load() - before);

    std::vector<std::string> tags{"route:JFK-LAX"};
    if (!co_await cache.invalidate_tags(std::move(tags))) co_return 1;
    std::printf("%-44s\n", "5. invalidate tag route:JFK-LAX");
    // The other instance hears of it by an invalidation push, within a millisecond or so; until
    // then it may still serve its L1 copy. Give the push that moment.
    asio::steady_timer settle(co_await asio::this_coro::executor, 20ms);
    co_await settle.async_wait(asio::use_awaitable);
    if (!co_await step("   20 ms later the other instance searches", key, policy, other)) {
      co_return 1;
    }

    for (int i = 0; i < 3; ++i) (void)co_await cache.incr("searches:JFK-LAX", 1, 1h);
    auto count = co_await other.counter("searches:JFK-LAX");
    std::printf("%-44s %lld\n", "6. searches counted for JFK-LAX",
                count && *count ? static_cast<long long>(**count) : -1LL);

    std::vector<std::string> keys{key, key2,
                                  "flights:search:none"};  // (g++ 12: no braces in co_await)
    auto page = co_await other.get_many(std::move(keys));
    if (!page) co_return 1;
    std::printf("%-44s", "7. get_many of three keys");
    for (const auto& r : *page) std::printf(" %s", std::string(cache::to_string(r.source)).c_str());
    std::printf("\n");
    co_return ok == 100 ? 0 : 1;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  auto config = argc > 1 ? redis::parse_url(argv[1], &why) : redis::config_from_env(&why);
  if (!config) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 2;
  }
  config->client_tracking = true;  // keeps L1 coherent with Redis (RESP3)
  spdlog::set_level(spdlog::level::err);

  asio::io_context io;
  int status = 1;
  {
    cache::Cache a(std::make_shared<redis::Client>(io.get_executor(), *config),
                   cache::Options{.ns = "demo"});
    cache::Cache b(std::make_shared<redis::Client>(io.get_executor(), *config),
                   cache::Options{.ns = "demo"});
    Demo demo{a, b,
              cache::KeySchema("flights:search")
                  .part("{origin}-{destination}")
                  .part("{departure_date}")
                  .field("origin", {.letter_case = cache::Case::upper})
                  .field("destination", {.letter_case = cache::Case::upper})};
    asio::co_spawn(io, demo.run(), [&](std::exception_ptr error, int result) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "error: %s\n", e.what());
        }
      }
      status = error ? 1 : result;
      io.stop();
    });
    io.run();
  }
  return status;
}
