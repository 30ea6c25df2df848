// Replies decoded per second: our resp::Reader against hiredis's redisReader (the reader
// hiredis users get, freeing each reply as they would) on the same RESP2 bytes, fed to both in
// 16 KiB reads as a socket would. Each reply is touched the same way on both sides (type, the
// length of every string), so neither side skips work the other does.
// Run:  cmake -S . -B build/rel-resp -G Ninja -DCMAKE_BUILD_TYPE=Release
//       cmake --build build/rel-resp --target reader_bench && ./build/rel-resp/bench/reader_bench
// The last table gives ours/hiredis per case (above 1: we are faster).
#include "tiercache/resp/reader.hpp"

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using tiercache::resp::Reader;
using tiercache::resp::ReplyView;

constexpr std::size_t kRead = 16 << 10;

struct Stream {
  std::string bytes;
  std::size_t replies = 0;
};

Stream make_stream(const std::string& name) {
  Stream s;
  const std::string bulk100(100, 'v');
  const std::string bulk10k(10 << 10, 'w');
  const auto blob = [](const std::string& v) {
    return "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n";
  };
  std::string array10 = "*10\r\n";
  for (int j = 0; j < 10; ++j) array10 += blob(bulk100);
  const std::size_t count = name == "bulk_10k" ? 200 : 2000;
  for (std::size_t i = 0; i < count; ++i) {
    if (name == "ok") s.bytes += "+OK\r\n";
    if (name == "integer") s.bytes += ":" + std::to_string(i * 7919) + "\r\n";
    if (name == "bulk_100") s.bytes += blob(bulk100);
    if (name == "array_10_bulks") {
      s.bytes += array10;
    }
    if (name == "bulk_10k") s.bytes += blob(bulk10k);
    if (name == "mix") {
      const std::size_t k = i % 5;
      s.bytes += k == 0   ? "+OK\r\n"
                 : k == 1 ? ":" + std::to_string(i) + "\r\n"
                 : k == 2 ? blob(bulk100)
                 : k == 3 ? array10
                          : blob(bulk10k);
    }
    ++s.replies;
  }
  return s;
}

std::size_t touch(ReplyView r) {
  std::size_t n = static_cast<std::size_t>(r.type()) + r.str().size();
  for (const ReplyView e : r) n += touch(e);
  return n;
}

std::size_t touch(const redisReply* r) {
  std::size_t n = static_cast<std::size_t>(r->type) + r->len;
  for (std::size_t i = 0; i < r->elements; ++i) n += touch(r->element[i]);
  return n;
}

void run_ours(benchmark::State& state, const Stream& stream) {
  Reader reader;
  std::size_t replies = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < stream.bytes.size(); at += kRead) {
      const std::size_t n = std::min(kRead, stream.bytes.size() - at);
      auto space = reader.prepare(n);
      std::memcpy(space.data(), stream.bytes.data() + at, n);
      reader.commit(n);
      for (auto r = reader.next(); r && *r; r = reader.next()) {
        benchmark::DoNotOptimize(touch(**r));
        ++replies;
      }
    }
  }
  if (replies != stream.replies * static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("lost replies");
  state.SetItemsProcessed(static_cast<std::int64_t>(replies));
  state.SetBytesProcessed(static_cast<std::int64_t>(stream.bytes.size() *
                                                    static_cast<std::size_t>(state.iterations())));
}

void run_hiredis(benchmark::State& state, const Stream& stream) {
  redisReader* reader = redisReaderCreate();
  std::size_t replies = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < stream.bytes.size(); at += kRead) {
      const std::size_t n = std::min(kRead, stream.bytes.size() - at);
      redisReaderFeed(reader, stream.bytes.data() + at, n);
      void* reply = nullptr;
      while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply != nullptr) {
        benchmark::DoNotOptimize(touch(static_cast<redisReply*>(reply)));
        freeReplyObject(reply);
        ++replies;
      }
    }
  }
  redisReaderFree(reader);
  if (replies != stream.replies * static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("lost replies");
  state.SetItemsProcessed(static_cast<std::int64_t>(replies));
  state.SetBytesProcessed(static_cast<std::int64_t>(stream.bytes.size() *
                                                    static_cast<std::size_t>(state.iterations())));
}

// The console report, then ours/hiredis in replies per second for each case.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const std::string name = run.benchmark_name();
      const auto slash = name.find('/');
      const auto it = run.counters.find("items_per_second");
      if (slash == std::string::npos || it == run.counters.end() || run.error_occurred) continue;
      rates_[name.substr(slash + 1)][name.substr(0, slash)] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-16s %14s %14s %8s\n", "case", "ours rep/s", "hiredis rep/s", "ratio");
    for (auto& [name, by] : rates_) {
      if (by.count("ours") == 0 || by.count("hiredis") == 0) continue;
      std::printf("%-16s %14.0f %14.0f %7.2fx\n", name.c_str(), by["ours"], by["hiredis"],
                  by["ours"] / by["hiredis"]);
    }
  }

 private:
  std::map<std::string, std::map<std::string, double>> rates_;
};

}  // namespace

int main(int argc, char** argv) {
#ifdef NDEBUG
  benchmark::AddCustomContext("tiercache build", "release (asserts off)");
#else
  benchmark::AddCustomContext("tiercache build", "DEBUG: asserts on, figures are not meaningful");
  std::fprintf(stderr, "WARNING: not a Release build; the figures are not meaningful\n");
#endif
  static std::vector<Stream> streams;
  const std::vector<std::string> names = {"ok",       "integer", "bulk_100", "array_10_bulks",
                                          "bulk_10k", "mix"};
  streams.reserve(names.size());
  for (const std::string& name : names) {
    const Stream& s = streams.emplace_back(make_stream(name));
    benchmark::RegisterBenchmark(("ours/" + name).c_str(), run_ours, std::cref(s));
    benchmark::RegisterBenchmark(("hiredis/" + name).c_str(), run_hiredis, std::cref(s));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
