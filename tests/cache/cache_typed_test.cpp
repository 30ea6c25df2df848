// Typed values (cache/typed.hpp) against a real Redis: round trips of a nested struct in JSON and
// MessagePack through both tiers, the codec recorded in the entry header, get_or_load_as, and
// every way the bytes under a key can fail to be a T (foreign, not JSON, another shape, the other
// codec, hostile nesting), which must be errors, never exceptions or crashes.

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/error.hpp"
#include "tiercache/cache/typed.hpp"
#include "tiercache/redis/client.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/support/redis_server.hpp"  // also labels this file `redis` in ctest

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

struct Leg {
  std::string from;
  std::string to;
  std::int64_t minutes = 0;
  friend bool operator==(const Leg&, const Leg&) = default;
  NLOHMANN_DEFINE_TYPE_INTRUSIVE(Leg, from, to, minutes)
};

struct Flight {
  std::string id;
  std::vector<Leg> legs;
  std::map<std::string, double> fares;
  std::optional<std::string> note;  // absent in the encoding when empty
  std::optional<std::int32_t> gate;
  friend bool operator==(const Flight&, const Flight&) = default;
};

// nlohmann 3.11 has no std::optional conversion: absent or null is nullopt.
void to_json(nlohmann::json& j, const Flight& f) {
  j = nlohmann::json{{"id", f.id}, {"legs", f.legs}, {"fares", f.fares}};
  if (f.note) j["note"] = *f.note;
  if (f.gate) j["gate"] = *f.gate;
}

void from_json(const nlohmann::json& j, Flight& f) {
  j.at("id").get_to(f.id);
  j.at("legs").get_to(f.legs);
  j.at("fares").get_to(f.fares);
  f.note = j.contains("note") && !j["note"].is_null()
               ? std::optional<std::string>(j["note"].get<std::string>())
               : std::nullopt;
  f.gate = j.contains("gate") && !j["gate"].is_null()
               ? std::optional<std::int32_t>(j["gate"].get<std::int32_t>())
               : std::nullopt;
}

Flight sample() {
  return Flight{.id = "BA117",
                .legs = {{"LHR", "JFK", 475}, {"JFK", "SFO", 390}},
                .fares = {{"economy", 412.5}, {"business", 3120.0}},
                .note = "meal: vegetarian \xC3\xA9t\xC3\xA9",  // UTF-8
                .gate = std::nullopt};
}

// A series of readings: numbers, which MessagePack stores in 1 to 9 bytes and JSON as text.
struct Series {
  std::vector<std::int64_t> ticks;
  std::vector<double> values;
  NLOHMANN_DEFINE_TYPE_INTRUSIVE(Series, ticks, values)
};

static_assert(JsonConvertible<Flight>);
static_assert(JsonConvertible<std::vector<int>>);
static_assert(!JsonConvertible<std::unique_ptr<int>>);

// A typed loader that counts its calls (named: a capturing lambda must not be a coroutine).
asio::awaitable<Result<Flight>> flight_loader(std::shared_ptr<std::atomic<int>> calls,
                                              Flight flight) {
  calls->fetch_add(1);
  co_return flight;
}

TypedLoader<Flight> loading(std::shared_ptr<std::atomic<int>> calls, Flight flight) {
  return [calls, flight] { return flight_loader(calls, flight); };
}

class CacheTypedTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options = {}) {
    options.clock = &clock_;
    return std::make_unique<Cache>(test::tracking_client(io_.executor(), server_), options);
  }
  asio::any_io_executor ex() { return io_.executor(); }

  // Writes `bytes` under the Redis key of `key` with a plain SET, as a foreign writer would.
  void raw_set(Cache& cache, const std::string& key, const std::string& bytes) {
    auto rk = run(ex(), cache.redis_key(key));
    ASSERT_TRUE(rk);
    redis::Client client(ex(), server_.config());
    client.start();
    auto reply = test::exec_sync(client, test::command("SET", *rk, bytes));
    ASSERT_TRUE(reply);
  }

  ManualClock clock_;
  test::RedisServer server_;
  test::IoThreads io_{2};
};

class CacheTypedFormatTest : public CacheTypedTest, public ::testing::WithParamInterface<Format> {
 protected:
  Format format() const { return GetParam(); }
  Format other() const { return GetParam() == Format::json ? Format::msgpack : Format::json; }
};

TEST_P(CacheTypedFormatTest, RoundTripsANestedStructThroughBothTiers) {
  auto a = make();
  auto b = make();
  const Flight flight = sample();
  ASSERT_TRUE(run(ex(), set_as(*a, "BA117", flight, {.ttl = 1min}, format())));

  auto r = run(ex(), get_as<Flight>(*a, "BA117", format()));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->hit());
  EXPECT_EQ(r->source, Source::l1);
  EXPECT_EQ(*r->value, flight);

  r = run(ex(), get_as<Flight>(*b, "BA117", format()));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->hit());
  EXPECT_EQ(r->source, Source::l2);
  EXPECT_FALSE(r->stale);
  EXPECT_FALSE(r->error);
  EXPECT_EQ(*r->value, flight);

  Flight bare{.id = "X1"};  // empty containers, no optionals
  ASSERT_TRUE(run(ex(), set_as(*a, "X1", bare, {}, format())));
  r = run(ex(), get_as<Flight>(*b, "X1", format()));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(*r->value, bare);
}

TEST_P(CacheTypedFormatTest, TheEntryHeaderRecordsTheCodecWritten) {
  auto cache = make(Options{.l1_bytes = 0});
  ASSERT_TRUE(run(ex(), set_as(*cache, "k", sample(), {}, format())));
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->entry->codec, codec_of(format()));
  auto decoded = decode<Flight>(r->value(), format());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, sample());

  // Byte 5 of the header (docs/entry-format.md), as a reader in another language sees it.
  auto rk = run(ex(), cache->redis_key("k"));
  ASSERT_TRUE(rk);
  redis::Client client(ex(), server_.config());
  client.start();
  auto byte = test::exec_sync(client, test::command("GETRANGE", *rk, "5", "5"));
  ASSERT_TRUE(byte);
  EXPECT_EQ(byte->str(), std::string(1, static_cast<char>(codec_of(format()))));
}

TEST_P(CacheTypedFormatTest, GetOrLoadAsLoadsOnceThenHits) {
  auto cache = make();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto r =
      run(ex(), get_or_load_as<Flight>(*cache, "BA117", loading(calls, sample()), {}, format()));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->hit());
  EXPECT_EQ(r->source, Source::loader);
  EXPECT_EQ(*r->value, sample());

  r = run(ex(), get_or_load_as<Flight>(*cache, "BA117", loading(calls, Flight{.id = "other"}), {},
                                       format()));
  ASSERT_TRUE(r && r->hit());
  EXPECT_TRUE(r->source == Source::l1 || r->source == Source::l2) << to_string(r->source);
  EXPECT_EQ(*r->value, sample());
  EXPECT_EQ(calls->load(), 1);

  auto other = make();  // another process: a hit in Redis, no load
  r = run(ex(), get_or_load_as<Flight>(*other, "BA117", loading(calls, Flight{.id = "other"}), {},
                                       format()));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::l2);
  EXPECT_EQ(*r->value, sample());
  EXPECT_EQ(calls->load(), 1);

  auto raw = run(ex(), cache->get("BA117"));
  ASSERT_TRUE(raw && raw->hit());
  EXPECT_EQ(raw->entry->codec, codec_of(format()));
}

TEST_P(CacheTypedFormatTest, AMissIsAResultWithoutValue) {
  auto cache = make();
  auto r = run(ex(), get_as<Flight>(*cache, "absent", format()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->hit());
  EXPECT_EQ(r->source, Source::none);
  EXPECT_FALSE(r->error);
}

TEST_P(CacheTypedFormatTest, ReadingTheOtherFormatIsACodecMismatch) {
  auto cache = make();
  ASSERT_TRUE(run(ex(), set_as(*cache, "k", sample(), {}, format())));
  auto r = run(ex(), get_as<Flight>(*cache, "k", other()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::codec_mismatch);
  // The same with get_or_load_as: the loader does not run over a live entry.
  auto calls = std::make_shared<std::atomic<int>>(0);
  r = run(ex(), get_or_load_as<Flight>(*cache, "k", loading(calls, sample()), {}, other()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::codec_mismatch);
  EXPECT_EQ(calls->load(), 0);
}

TEST_P(CacheTypedFormatTest, ForeignBytesUnderTheKeyAreAnErrorNotACrash) {
  auto cache = make();
  raw_set(*cache, "k", "{\"id\": \"BA117\"}");  // plain SET: no entry header
  auto r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_TRUE(r);  // as Cache::get: a miss that says why
  EXPECT_FALSE(r->hit());
  EXPECT_EQ(r->error, Errc::not_an_entry);
}

TEST_P(CacheTypedFormatTest, RawBytesThatAreNotTheFormatFailToDecode) {
  auto cache = make();
  // Not JSON, and not MessagePack either (0xc1 is never used; a lone map header is truncated).
  for (std::string bytes :
       {std::string("not json {"), std::string("\xc1"), std::string("\x81"), std::string()}) {
    ASSERT_TRUE(run(ex(), cache->set("k", bytes)));  // codec raw: decoded as asked
    auto r = run(ex(), get_as<Flight>(*cache, "k", format()));
    ASSERT_FALSE(r) << "bytes: " << bytes;
    EXPECT_EQ(r.error(), Errc::decode_failed);
  }
  // Valid, but followed by more bytes.
  auto valid = encode(sample(), format());
  ASSERT_TRUE(valid);
  ASSERT_TRUE(run(ex(), cache->set("k", *valid + "\x01")));
  auto r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::decode_failed);
  // Without the extra byte, a raw entry holding the format decodes.
  ASSERT_TRUE(run(ex(), cache->set("k", *valid)));
  r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(*r->value, sample());
}

TEST_P(CacheTypedFormatTest, AValueOfAnotherShapeFailsToDecode) {
  auto cache = make();
  // What an older version of the program may have written: id a number, no legs.
  ASSERT_TRUE(run(ex(), set_as(*cache, "k", nlohmann::json{{"id", 117}}, {}, format())));
  auto r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::decode_failed);
  ASSERT_TRUE(run(ex(), set_as(*cache, "k", std::vector<int>{1, 2, 3}, {}, format())));
  r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::decode_failed);
  // A string where a number belongs.
  ASSERT_TRUE(run(ex(), set_as(*cache, "k",
                               nlohmann::json{{"id", "X"},
                                              {"legs", nlohmann::json::array()},
                                              {"fares", nlohmann::json::object()},
                                              {"gate", "twelve"}},
                               {}, format())));
  r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::decode_failed);
}

TEST_P(CacheTypedFormatTest, HostileNestingFailsToDecodeWithoutExhaustingTheStack) {
  auto cache = make(Options{.compression_threshold = 1 << 20});
  const std::size_t depth = 200'000;
  const std::string bytes =
      format() == Format::json ? std::string(depth, '[') : std::string(depth, '\x91') + '\x01';
  ASSERT_TRUE(run(ex(), cache->set("k", bytes)));
  auto r = run(ex(), get_as<nlohmann::json>(*cache, "k", format()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::decode_failed);
  // Within the bound it decodes.
  const std::string shallow = format() == Format::json
                                  ? std::string(100, '[') + std::string(100, ']')
                                  : std::string(100, '\x91') + '\x01';
  ASSERT_TRUE(run(ex(), cache->set("k", shallow)));
  r = run(ex(), get_as<nlohmann::json>(*cache, "k", format()));
  ASSERT_TRUE(r && r->hit());
}

TEST_P(CacheTypedFormatTest, AStaleAnswerKeepsItsMetadata) {
  auto cache = make();
  ASSERT_TRUE(run(ex(), set_as(*cache, "k", sample(), {.ttl = 10s, .grace = 20s}, format())));
  clock_.advance(11s);
  auto r = run(ex(), get_as<Flight>(*cache, "k", format()));
  ASSERT_TRUE(r && r->hit());
  EXPECT_TRUE(r->stale);
  EXPECT_EQ(r->source, Source::l1);
  EXPECT_EQ(*r->value, sample());
}

INSTANTIATE_TEST_SUITE_P(Formats, CacheTypedFormatTest,
                         ::testing::Values(Format::json, Format::msgpack),
                         [](const ::testing::TestParamInfo<Format>& param) {
                           return std::string(to_string(param.param));
                         });

TEST_F(CacheTypedTest, MsgpackIsSmallerThanJsonForNumbers) {
  Series series;
  for (std::int64_t i = 0; i < 1000; ++i) {
    series.ticks.push_back(1'700'000'000'000 + i * 1000);
    series.values.push_back(static_cast<double>(i) / 7.0);
  }
  auto json = encode(series, Format::json);
  auto msgpack = encode(series, Format::msgpack);
  ASSERT_TRUE(json && msgpack);
  EXPECT_LT(msgpack->size(), json->size())
      << "msgpack " << msgpack->size() << ", json " << json->size();

  // And so are the payloads the cache stores (compression off to compare the encodings).
  auto cache = make(Options{.l1_bytes = 0, .compression_threshold = std::size_t{1} << 30});
  ASSERT_TRUE(run(ex(), set_as(*cache, "j", series, {}, Format::json)));
  ASSERT_TRUE(run(ex(), set_as(*cache, "m", series, {}, Format::msgpack)));
  auto j = run(ex(), cache->get("j"));
  auto m = run(ex(), cache->get("m"));
  ASSERT_TRUE(j && j->hit() && m && m->hit());
  EXPECT_LT(m->value().size(), j->value().size());
}

TEST_F(CacheTypedTest, AValueThatDoesNotEncodeWritesNothing) {
  auto cache = make();
  Flight bad = sample();
  bad.note = std::string("\xff\xfe not UTF-8");
  auto w = run(ex(), set_as(*cache, "k", bad, {}, Format::json));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::encode_failed);
  EXPECT_FALSE(*run(ex(), cache->exists("k")));
  // MessagePack carries strings as bytes: the same value round-trips.
  ASSERT_TRUE(run(ex(), set_as(*cache, "k", bad, {}, Format::msgpack)));
  auto r = run(ex(), get_as<Flight>(*cache, "k", Format::msgpack));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(*r->value, bad);
}

TEST_F(CacheTypedTest, ALoadedValueThatDoesNotEncodeIsTheLoadersError) {
  auto cache = make();
  auto calls = std::make_shared<std::atomic<int>>(0);
  Flight bad = sample();
  bad.id = std::string("\xc3\x28");  // an invalid UTF-8 sequence
  auto r = run(ex(), get_or_load_as<Flight>(*cache, "k", loading(calls, bad), {}, Format::json));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::encode_failed);
  EXPECT_EQ(calls->load(), 1);
  EXPECT_FALSE(*run(ex(), cache->exists("k")));
}

TEST_F(CacheTypedTest, AThrowingTypedLoaderIsLoaderFailed) {
  auto cache = make();
  TypedLoader<Flight> empty;  // calling it throws std::bad_function_call
  auto r = run(ex(), get_or_load_as<Flight>(*cache, "k", empty));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::loader_failed);
}

TEST_F(CacheTypedTest, AnEntryOfAnUnknownCodecIsACodecMismatch) {
  auto cache = make();
  // A newer writer's codec id: passed through by the cache, refused by the typed reader.
  ASSERT_TRUE(run(ex(), cache->set("k", "[]", {.codec = static_cast<Codec>(7)})));
  auto r = run(ex(), get_as<std::vector<int>>(*cache, "k", Format::json));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::codec_mismatch);
}

TEST(CacheTypedCodecTest, EncodeAndDecodeNeedNoCache) {
  for (Format f : {Format::json, Format::msgpack}) {
    auto bytes = encode(sample(), f);
    ASSERT_TRUE(bytes);
    auto back = decode<Flight>(*bytes, f);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, sample());
  }
  auto j = encode(std::map<std::string, int>{{"a", 1}}, Format::json);
  ASSERT_TRUE(j);
  EXPECT_EQ(*j, R"({"a":1})");
  // Huge declared lengths with no bytes behind them fail without allocating them.
  EXPECT_EQ(decode<nlohmann::json>("\xdd\xff\xff\xff\xff", Format::msgpack).error(),
            Errc::decode_failed);
  EXPECT_EQ(decode<std::string>("\xdb\xff\xff\xff\xff"
                                "abc",
                                Format::msgpack)
                .error(),
            Errc::decode_failed);
  std::string message = make_error_code(Errc::decode_failed).message();
  EXPECT_NE(message.find("decode"), std::string::npos);
}

}  // namespace
}  // namespace tiercache::cache
