#include "server/dashboard/assets.hpp"

namespace tiercache::server::dashboard {

const Asset* find_asset(std::string_view path) noexcept {
  for (const Asset& a : embedded_assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace tiercache::server::dashboard
