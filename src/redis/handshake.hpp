#pragma once
// The connection handshake, sans I/O: which commands a new link sends and what their replies
// mean. HELLO 3 carries AUTH and SETNAME in one command, SELECT follows in the same write; a
// server without HELLO (or Config::protocol == 2) gets AUTH, CLIENT SETNAME and SELECT on RESP2.
// CLIENT TRACKING ON rides in the RESP3 write when Config::client_tracking is set.
// Thread-safety: pure functions.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/config.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include <span>
#include <string>
#include <string_view>

namespace tiercache::redis::detail {

struct HandshakePlan {
  resp::Request request;  // may be empty (RESP2, no password, no name, database 0)
  bool hello = false;     // the first command is HELLO 3
};

struct HandshakeOutcome {
  error_code ec;          // auth_failed, permission_denied or handshake_failed
  bool fallback = false;  // HELLO unknown: run resp2_handshake() on the same link
  int protocol = 0;       // 3 or 2 on success
  std::string message;    // Redis's error text, for the log
};

// HELLO 3 [AUTH user pass] [SETNAME name] + SELECT db + CLIENT TRACKING ON (when
// Config::client_tracking), or the RESP2 plan when protocol == 2. A RESP2 plan never tracks:
// without push messages in band the invalidations would need a REDIRECT connection.
HandshakePlan first_handshake(const Config& config);
// AUTH [user] pass, CLIENT SETNAME name, SELECT db: each only when configured.
HandshakePlan resp2_handshake(const Config& config);

// Judges the replies (one per command of plan.request, in order).
HandshakeOutcome check_handshake(const HandshakePlan& plan, std::span<const resp::Reply> replies);

// WRONGPASS, "ERR invalid password", NOAUTH -> auth_failed; NOPERM -> permission_denied;
// anything else -> `otherwise`.
error_code map_error_reply(std::string_view text, error_code otherwise);

}  // namespace tiercache::redis::detail
