#include "redis/connection_registry.hpp"

#include <vector>

namespace tiercache::redis::detail {

void ConnectionRegistry::add(const std::shared_ptr<HandlerHolder>& holder) {
  std::lock_guard lock(mu_);
  live_.emplace(holder.get(), holder);
}

void ConnectionRegistry::remove(const HandlerHolder* holder) noexcept {
  std::lock_guard lock(mu_);
  live_.erase(holder);
}

void ConnectionRegistry::shutdown() {
  // Handlers are destroyed outside the lock: a destroyed frame may own a Client whose
  // connections then leave the registry.
  std::vector<std::shared_ptr<HandlerHolder>> holders;
  {
    std::lock_guard lock(mu_);
    for (auto& [raw, weak] : live_) {
      if (auto holder = weak.lock()) holders.push_back(std::move(holder));
    }
  }
  for (auto& holder : holders) holder->abandon_handlers();
}

}  // namespace tiercache::redis::detail
