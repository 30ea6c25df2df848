// LatencyHistogram: percentiles within a bucket's width (about 6%), bounded by the maximum,
// and merging adds.

#include "cli/latency_histogram.hpp"

#include <gtest/gtest.h>

namespace tiercache::cli {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.99), nanoseconds(0));
}

TEST(LatencyHistogramTest, PercentilesWithinABucket) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.record(microseconds(i));
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), microseconds(1000));
  const auto near = [](nanoseconds got, double want_us) {
    const double us = static_cast<double>(got.count()) / 1000;
    EXPECT_NEAR(us, want_us, want_us * 0.07) << us << " vs " << want_us;
  };
  near(h.percentile(0.5), 500);
  near(h.percentile(0.9), 900);
  near(h.percentile(0.99), 990);
  EXPECT_LE(h.percentile(1.0), h.max());
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndMergeAdds) {
  LatencyHistogram a, b;
  for (int i = 0; i < 10; ++i) a.record(nanoseconds(3));
  for (int i = 0; i < 10; ++i) b.record(nanoseconds(9));
  a.merge(b);
  EXPECT_EQ(a.count(), 20u);
  EXPECT_EQ(a.percentile(0.5), nanoseconds(3));
  EXPECT_EQ(a.percentile(0.99), nanoseconds(9));
  a.record(nanoseconds(-5));  // a clock that went backwards counts as 0
  EXPECT_EQ(a.count(), 21u);
}

}  // namespace
}  // namespace tiercache::cli
