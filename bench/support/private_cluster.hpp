#pragma once
// PrivateCluster: a benchmark's own Redis Cluster of `masters` redis-server processes (no
// replicas: a benchmark measures serving, not failover), each a PrivateRedis in its own temp dir,
// joined by `redis-cli --cluster create`; ready when every node says cluster_state:ok. Stopped
// with its nodes, by pid.
// Use: bench::PrivateCluster cluster(3);  auto seeds = cluster.seeds();
// Thread-safety: not thread-safe; construct it from main before starting threads (it forks).

#include "tiercache/redis/config.hpp"

#include "support/private_redis.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::bench {

class PrivateCluster {
 public:
  // Exits the program with a message when the cluster does not form within 10 s.
  explicit PrivateCluster(int masters) {
    for (int i = 0; i < masters; ++i) {
      // The bus port is named: the default (port + 10000) overflows for high ephemeral ports.
      nodes_.push_back(std::make_unique<PrivateRedis>(PrivateRedis::Options{
          .extra = {"--cluster-enabled", "yes", "--cluster-node-timeout", "5000", "--cluster-port",
                    std::to_string(PrivateRedis::free_port())}}));
    }
    std::string create = "redis-cli --cluster create";
    for (const auto& n : nodes_) create += " 127.0.0.1:" + std::to_string(n->port());
    create += " --cluster-yes >/dev/null 2>&1";
    if (std::system(create.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe)
      std::fprintf(stderr, "redis-cli --cluster create failed: %s\n", create.c_str());
      std::exit(1);
    }
    for (int i = 0; i < 1000 && !ready(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!ready()) {
      std::fprintf(stderr, "the cluster did not reach cluster_state:ok\n");
      std::exit(1);
    }
  }

  std::vector<redis::ServerAddress> seeds() const {
    std::vector<redis::ServerAddress> out;
    for (const auto& n : nodes_) out.push_back({"127.0.0.1", n->port()});
    return out;
  }
  std::uint16_t first_port() const { return nodes_.front()->port(); }

 private:
  bool ready() const {
    for (const auto& n : nodes_) {
      const std::string cmd =
          "redis-cli -p " + std::to_string(n->port()) + " cluster info 2>/dev/null";
      FILE* pipe = ::popen(cmd.c_str(), "r");
      if (pipe == nullptr) return false;
      bool ok = false;
      char line[256];
      while (std::fgets(line, sizeof line, pipe) != nullptr) {
        if (std::string(line).rfind("cluster_state:ok", 0) == 0) ok = true;
      }
      ::pclose(pipe);
      if (!ok) return false;
    }
    return true;
  }

  std::vector<std::unique_ptr<PrivateRedis>> nodes_;
};

}  // namespace tiercache::bench
