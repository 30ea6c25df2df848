// Entry format micro-benchmark: what encoding and decoding one entry costs the client, by value
// size and compression, and the checksum's share of it. An L2 hit pays decode_shared_entry once;
// a write pays encode_entry once. Values are JSON text (flight offers; lz4 stores 1 KiB of it in
// about half, zstd in a third; `stored` is the entry's size in Redis).
// Run: build/release/bench/entry_bench  (see bench/README.md).
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/entry_format.hpp"

#include "support/google_benchmark.hpp"

#include <benchmark/benchmark.h>
#include <xxhash.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

using namespace tiercache::cache;

// JSON offers, each a little different, until `bytes` long.
std::string json_of_size(std::size_t bytes) {
  static constexpr const char* airports[] = {"LHR", "JFK", "CDG", "FRA", "AMS", "MAD", "FCO"};
  std::string out = "[";
  std::uint64_t n = 0;
  while (out.size() < bytes) {
    char record[160];
    const int len = std::snprintf(
        record, sizeof record,
        R"({"id":"%llu","from":"%s","to":"%s","price":{"amount":%llu.%02llu,"currency":"EUR"},"seats":%llu},)",
        static_cast<unsigned long long>(n * 7919 % 100000), airports[n % 7],
        airports[(n * 3 + 1) % 7], static_cast<unsigned long long>(50 + n * 37 % 3000),
        static_cast<unsigned long long>(n * 13 % 100), static_cast<unsigned long long>(n % 9));
    out.append(record, static_cast<std::size_t>(len));
    ++n;
  }
  out.resize(bytes);
  return out;
}

Entry entry_of_size(std::size_t bytes) {
  Entry e;
  e.value = json_of_size(bytes);
  e.created = Entry::time_point(std::chrono::milliseconds(1'790'000'000'000));
  e.fresh_until = e.created + std::chrono::minutes(10);
  e.stale_until = e.fresh_until + std::chrono::minutes(5);
  return e;
}

EncodeOptions with(Compression c) { return EncodeOptions{.compression = c}; }

void BM_Checksum(benchmark::State& state) {
  const std::string data = json_of_size(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(XXH3_64bits(data.data(), data.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_Checksum)->Arg(256)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

// What an L2 hit pays: decode_shared_entry (header, checksum, decompression, the Entry).
void decode(benchmark::State& state, Compression c, bool verify) {
  const Entry e = entry_of_size(static_cast<std::size_t>(state.range(0)));
  const auto bytes = encode_entry(e, with(c));
  if (!bytes) {
    state.SkipWithError("encode_entry failed");
    return;
  }
  const DecodeOptions options{.verify_checksum = verify};
  for (auto _ : state) {
    auto decoded = decode_shared_entry(*bytes, options);
    if (!decoded) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(e.value.size()));
  state.counters["stored"] = static_cast<double>(bytes->size());
}
void BM_DecodeNone(benchmark::State& state) { decode(state, Compression::none, true); }
void BM_DecodeNoneUnchecked(benchmark::State& state) { decode(state, Compression::none, false); }
void BM_DecodeLz4(benchmark::State& state) { decode(state, Compression::lz4, true); }
void BM_DecodeLz4Unchecked(benchmark::State& state) { decode(state, Compression::lz4, false); }
void BM_DecodeZstd(benchmark::State& state) { decode(state, Compression::zstd, true); }
BENCHMARK(BM_DecodeNone)->Arg(256)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_DecodeNoneUnchecked)->Arg(1 << 10)->Arg(256 << 10);
BENCHMARK(BM_DecodeLz4)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_DecodeLz4Unchecked)->Arg(1 << 10)->Arg(256 << 10);
BENCHMARK(BM_DecodeZstd)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

// What a write pays: encode_entry (compression, header, checksum).
void encode(benchmark::State& state, Compression c) {
  const Entry e = entry_of_size(static_cast<std::size_t>(state.range(0)));
  const EncodeOptions options = with(c);
  for (auto _ : state) {
    auto bytes = encode_entry(e, options);
    if (!bytes) state.SkipWithError("encode failed");
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(e.value.size()));
}
void BM_EncodeNone(benchmark::State& state) { encode(state, Compression::none); }
void BM_EncodeLz4(benchmark::State& state) { encode(state, Compression::lz4); }
void BM_EncodeZstd(benchmark::State& state) { encode(state, Compression::zstd); }
BENCHMARK(BM_EncodeNone)->Arg(1 << 10)->Arg(256 << 10);
BENCHMARK(BM_EncodeLz4)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_EncodeZstd)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

}  // namespace

int main(int argc, char** argv) { return tiercache::bench::run_google_benchmarks(argc, argv); }
