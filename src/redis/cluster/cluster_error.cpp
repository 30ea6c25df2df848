#include "tiercache/redis/cluster_client.hpp"

#include <string>

namespace tiercache::redis {
namespace {

class ClusterCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tiercache.redis.cluster"; }

  std::string message(int value) const override {
    switch (static_cast<ClusterErrc>(value)) {
      case ClusterErrc::cross_slot:
        return "Redis Cluster: the keys of this transaction, script or command fall in different "
               "hash slots; give them one {hash tag} so they live on one node";
      case ClusterErrc::cluster_down:
        return "Redis Cluster: no node gave a slot map, or no master serves the key's slot (seeds "
               "unreachable, or a failover in progress)";
    }
    return "Redis Cluster: unknown error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& cluster_category() noexcept {
  static const ClusterCategory instance;
  return instance;
}

}  // namespace tiercache::redis
