// Whether a warm get's coroutine frames fit Asio's recycling allocator, seen by interposing
// aligned_alloc in this test program (Asio takes the blocks it cannot recycle from it). Asio keeps
// freed frames per thread for reuse, but only those of up to 1,020 bytes: a larger frame costs
// every get an aligned_alloc and a free, and pushes a recycled block out for the next frame
// (bench/README.md, cache_bench, "Frames Asio takes back"). g++ keeps every local of a coroutine
// in its frame, so one added local in Cache::Impl::lookup is enough to cross the line; this test
// says so. Not a timing: a count, the same on every machine.

#include "tests/cache/cache_test_support.hpp"

#include <stdlib.h>  // posix_memalign

#include <atomic>
#include <cstdlib>

namespace {

// Asio's recycled blocks carry a size in 4-byte chunks in one byte, plus that byte:
// thread_info_base::allocate asks for chunks * 4 + 1 bytes.
constexpr std::size_t kRecyclableMax = 255 * 4 + 1;

std::atomic<std::size_t> g_aligned{0};    // every aligned_alloc
std::atomic<std::size_t> g_too_large{0};  // those Asio could not have recycled

}  // namespace

// Served by posix_memalign, which free() releases (under AddressSanitizer too: it intercepts both).
extern "C" void* aligned_alloc(std::size_t align, std::size_t size) {
  g_aligned.fetch_add(1, std::memory_order_relaxed);
  if (size > kRecyclableMax) g_too_large.fetch_add(1, std::memory_order_relaxed);
  void* p = nullptr;
  return posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, size == 0 ? 1 : size) ==
                 0
             ? p
             : nullptr;
}

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

constexpr int kKeys = 50;
constexpr int kGets = 2000;

// "k<i>", and "raw:k<i>" for the raw GET's copy. (Not "k" + std::to_string(i): g++ 12 warns
// of an overlapping memcpy there, -Wrestrict, a known false positive.)
std::string key_of(int i, std::string_view prefix = "") {
  std::string key(prefix);
  key += 'k';
  key += std::to_string(i % kKeys);
  return key;
}

struct Counts {
  double aligned = 0;    // per get
  double too_large = 0;  // per get
};

// kGets gets (or raw GETs) one after another, and what they took from aligned_alloc.
asio::awaitable<Counts> count_gets(Cache& cache, redis::Client& raw, bool through_cache) {
  const std::size_t aligned = g_aligned.load();
  const std::size_t too_large = g_too_large.load();
  for (int i = 0; i < kGets; ++i) {
    if (through_cache) {
      auto r = co_await cache.get(key_of(i));
      if (!r || r->source != Source::l2) throw std::runtime_error("not an L2 hit");
    } else {
      auto r = co_await raw.exec(test::command("GET", key_of(i, "raw:")));
      if (!r || r->type() != resp::Type::blob_string) throw std::runtime_error("no value");
    }
  }
  co_return Counts{static_cast<double>(g_aligned.load() - aligned) / kGets,
                   static_cast<double>(g_too_large.load() - too_large) / kGets};
}

TEST(CacheAllocationTest, AWarmGetAllocatesNoFrameTooLargeForAsiosRecycler) {
  test::RedisServer server;
  test::IoThreads io;
  auto raw = std::make_shared<redis::Client>(io.executor(), server.config());
  raw->start();
  // L1 off, as in cache_bench's target row: every get is an L2 hit.
  Cache cache(test::tracking_client(io.executor(), server, /*optin=*/true),
              Options{.ns = "alloc", .l1_bytes = 0});
  std::string value = R"({"offer":")";
  value.append(1000, 'x');
  value += R"("})";
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(test::run(io.executor(), cache.set(key_of(i), value)));
    ASSERT_TRUE(test::exec_sync(*raw, test::command("SET", key_of(i, "raw:"), value)));
  }
  test::run(io.executor(), count_gets(cache, *raw, true));  // warm: Asio's recycled blocks

  const Counts raw_get = test::run(io.executor(), count_gets(cache, *raw, false));
  const Counts cache_get = test::run(io.executor(), count_gets(cache, *raw, true));
  RecordProperty("raw_get_aligned_allocs", std::to_string(raw_get.aligned));
  RecordProperty("cache_get_aligned_allocs", std::to_string(cache_get.aligned));
  EXPECT_EQ(raw_get.too_large, 0.0);
  EXPECT_EQ(cache_get.too_large, 0.0)
      << "a get allocates a coroutine frame over " << kRecyclableMax
      << " bytes: " << cache_get.too_large
      << " per get (Cache::Impl::lookup's frame? see cache_impl.hpp)";
}

}  // namespace
}  // namespace tiercache::cache
