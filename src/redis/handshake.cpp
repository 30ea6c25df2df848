#include "redis/handshake.hpp"

#include "tiercache/redis/error.hpp"

namespace tiercache::redis::detail {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Redis before 6 answers "ERR unknown command 'HELLO'" (quote style varies by version); a
// server that knows HELLO but not protocol 3 answers NOPROTO.
bool hello_unsupported(std::string_view text) {
  return starts_with(text, "NOPROTO") || text.find("unknown command") != std::string_view::npos;
}

}  // namespace

HandshakePlan first_handshake(const Config& config) {
  if (config.protocol == 2) return resp2_handshake(config);
  HandshakePlan plan;
  plan.hello = true;
  auto& req = plan.request;
  const bool auth = !config.password.empty();
  const bool name = !config.client_name.empty();
  const std::string_view user =
      config.username.empty() ? std::string_view("default") : std::string_view(config.username);
  if (auth && name) {
    req.push("HELLO", "3", "AUTH", user, config.password, "SETNAME", config.client_name);
  } else if (auth) {
    req.push("HELLO", "3", "AUTH", user, config.password);
  } else if (name) {
    req.push("HELLO", "3", "SETNAME", config.client_name);
  } else {
    req.push("HELLO", "3");
  }
  if (config.database != 0) req.push("SELECT", config.database);
  if (config.client_tracking && config.tracking_optin) {
    req.push("CLIENT", "TRACKING", "ON", "OPTIN");
  } else if (config.client_tracking) {
    req.push("CLIENT", "TRACKING", "ON");
  }
  return plan;
}

HandshakePlan resp2_handshake(const Config& config) {
  HandshakePlan plan;
  auto& req = plan.request;
  if (!config.password.empty()) {
    if (config.username.empty()) {
      req.push("AUTH", config.password);
    } else {
      req.push("AUTH", config.username, config.password);
    }
  }
  if (!config.client_name.empty()) req.push("CLIENT", "SETNAME", config.client_name);
  if (config.database != 0) req.push("SELECT", config.database);
  return plan;
}

HandshakeOutcome check_handshake(const HandshakePlan& plan, std::span<const resp::Reply> replies) {
  HandshakeOutcome out;
  out.protocol = plan.hello ? 3 : 2;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& reply = replies[i];
    if (!reply.is_error()) continue;
    out.message = std::string(reply.str());
    if (i == 0 && plan.hello && hello_unsupported(reply.str())) {
      // The rest was sent to a server that did not switch protocols and may not have
      // authenticated us: resp2_handshake() repeats it.
      out.fallback = true;
      out.protocol = 2;
      return out;
    }
    out.ec = map_error_reply(reply.str(), Errc::handshake_failed);
    return out;
  }
  return out;
}

error_code map_error_reply(std::string_view text, error_code otherwise) {
  if (starts_with(text, "WRONGPASS") || starts_with(text, "ERR invalid password") ||
      starts_with(text, "NOAUTH") || starts_with(text, "ERR AUTH")) {
    return Errc::auth_failed;
  }
  if (starts_with(text, "NOPERM")) return Errc::permission_denied;
  return otherwise;
}

}  // namespace tiercache::redis::detail
