// L1's byte accounting against the allocator: what size_bytes() charges must match what glibc
// malloc really holds for L1, within a few percent, and never fall below it.
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TIERCACHE_SANITIZED_MALLOC 1
// From <sanitizer/allocator_interface.h>, which clang ships and g++ 12 does not (libasan and
// libtsan export it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

#ifdef TIERCACHE_SANITIZED_MALLOC
// The sanitizer replaces malloc and counts the bytes asked for, without glibc's chunk header and
// rounding, which L1 charges too: charged may exceed it by that much, never fall below it.
constexpr double kLowest = 1.0;
constexpr double kHighest = 1.08;
std::size_t malloc_in_use() { return __sanitizer_get_current_allocated_bytes(); }
#else
constexpr double kLowest = 0.99;
constexpr double kHighest = 1.05;
std::size_t malloc_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}
#endif

TEST(L1AccountingTest, ChargesWhatMallocReallyHoldsForTheEntries) {
  ManualClock clock;
  L1Options options;
  options.max_bytes = std::size_t{256} << 20;
  options.shards = 1;
  L1 l1(options, clock);
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; ++i) {
    keys.push_back((i % 2 == 0 ? "short:" : "a-rather-longer-key-that-needs-the-heap:") +
                   std::to_string(i));
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<std::size_t> size(0, 2000);
  const std::size_t charged_before = l1.size_bytes();
  const std::size_t malloc_before = malloc_in_use();
  for (const auto& key : keys) {
    Entry e;
    e.value.assign(size(rng), 'x');
    if (key.size() % 3 == 0) e.tags = {"tag:city:paris", std::string(40, 't')};
    if (key.size() % 5 == 0) e.dependencies = {"dep:" + key};
    e.stale_until = clock.wall_now() + 60s;
    ASSERT_EQ(l1.put(key, std::make_shared<const Entry>(std::move(e))), PutResult::admitted);
  }
  const auto charged = static_cast<double>(l1.size_bytes() - charged_before);
  const auto real = static_cast<double>(malloc_in_use() - malloc_before);
  EXPECT_GE(charged, real * kLowest) << "charged " << charged << " real " << real;
  EXPECT_LE(charged, real * kHighest) << "charged " << charged << " real " << real;
}

}  // namespace
}  // namespace tiercache::cache
