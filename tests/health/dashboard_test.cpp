// deploy/grafana/tiercache.json: valid JSON, and every metric name its queries use is one that
// CacheCollector or HealthMonitor exports (a renamed metric would leave a panel empty).

#include "tiercache/health/cache_collector.hpp"
#include "tiercache/health/monitor.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace tiercache::health {
namespace {

namespace fs = std::filesystem;

// The dashboard, found by walking up from the test binary (it lives in the build tree, which
// sits inside the source tree) and from the working directory.
fs::path find_dashboard() {
  for (fs::path start : {fs::read_symlink("/proc/self/exe").parent_path(), fs::current_path()}) {
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
      const auto candidate = dir / "deploy" / "grafana" / "tiercache.json";
      if (fs::exists(candidate)) return candidate;
      if (dir == dir.parent_path()) break;
    }
  }
  return {};
}

void collect_exprs(const boost::json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.as_object()) {
      if (key == "expr" && child.is_string()) out.emplace_back(child.as_string());
      collect_exprs(child, out);
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) collect_exprs(child, out);
  }
}

// Every "tiercache_[a-z0-9_]+" in a query.
std::vector<std::string> metric_names_in(const std::string& expr) {
  std::vector<std::string> names;
  const std::string prefix = "tiercache_";
  for (auto at = expr.find(prefix); at != std::string::npos; at = expr.find(prefix, at)) {
    auto end = at + prefix.size();
    while (end < expr.size() && ((expr[end] >= 'a' && expr[end] <= 'z') ||
                                 (expr[end] >= '0' && expr[end] <= '9') || expr[end] == '_')) {
      ++end;
    }
    names.push_back(expr.substr(at, end - at));
    at = end;
  }
  return names;
}

TEST(DashboardTest, UsesOnlyMetricsTheHealthLayerExports) {
  const auto path = find_dashboard();
  ASSERT_FALSE(path.empty()) << "deploy/grafana/tiercache.json not found above the test binary";
  std::ifstream in(path);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  boost::system::error_code ec;
  const auto dashboard = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(dashboard.is_object());
  EXPECT_EQ(dashboard.at("title").as_string(), "tiercache");

  std::set<std::string> exported;
  for (auto n : collector_metric_names()) exported.emplace(n);
  for (auto n : monitor_metric_names()) exported.emplace(n);

  std::vector<std::string> exprs;
  collect_exprs(dashboard, exprs);
  ASSERT_GE(exprs.size(), 20u);
  std::set<std::string> used;
  for (const auto& e : exprs) {
    for (std::string name : metric_names_in(e)) {
      // A histogram's series: _bucket, _count and _sum of the family.
      for (const char* suffix : {"_bucket", "_count", "_sum"}) {
        const std::string s(suffix);
        if (name.ends_with(s) && exported.count(name.substr(0, name.size() - s.size()))) {
          name.resize(name.size() - s.size());
        }
      }
      used.insert(name);
      EXPECT_TRUE(exported.count(name)) << name << " in: " << e;
    }
  }
  // The panels the issue asks for.
  for (const char* needed :
       {"tiercache_cache_requests_total", "tiercache_operation_duration_seconds",
        "tiercache_l1_bytes", "tiercache_redis_memory_used_bytes",
        "tiercache_redis_memory_max_bytes", "tiercache_redis_evicted_keys_total",
        "tiercache_l1_evictions_total", "tiercache_circuit_breaker_state",
        "tiercache_ratelimit_decisions_total"}) {
    EXPECT_TRUE(used.count(needed)) << needed;
  }
}

}  // namespace
}  // namespace tiercache::health
