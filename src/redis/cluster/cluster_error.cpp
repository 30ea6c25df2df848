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
      case ClusterErrc::no_replica:
        return "Redis Cluster: read_from=replica, and no replica of the key's shard is linked "
               "and READONLY (none exists, all are down, or a failover promoted the only one); "
               "read_from=replica_preferred would read from the master instead";
      case ClusterErrc::slot_moved:
        return "Redis Cluster: the slot of a shard channel moved to another node (a migration or "
               "a failover), and the node it left ended the subscription";
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
