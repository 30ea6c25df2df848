// Streamable HTTP. The order of checks is the order of trust: Origin first (a browser page on
// another site must learn nothing, not even whether a session exists), then the method, the
// media types, the protocol version header, the session; only then is the body parsed.
// Errors at the HTTP level carry a JSON-RPC error object with a null id, as the transport page's
// examples do, so a client that reads bodies only still sees why.
// Sessions live in one table under a mutex: lookups are a hash probe, and no lock is held while
// a tool runs. Expired sessions are dropped when met and swept when a new one would not fit.

#include "server/mcp/http_transport.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;

constexpr std::string_view kSessionHeader = "Mcp-Session-Id";
constexpr std::string_view kVersionHeader = "MCP-Protocol-Version";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Response reply(const Request& req, http::status status, std::string_view content_type,
               std::string body) {
  Response res{status, req.version()};
  res.keep_alive(req.keep_alive());
  if (!content_type.empty()) res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response refusal(const Request& req, http::status status, std::string why) {
  return reply(req, status, "application/json",
               json::serialize(make_error(nullptr, ErrorCode::invalid_request, std::move(why))));
}

// What the client takes back: JSON (the default), or SSE when it accepts that and not JSON.
enum class Accepts { json, sse, neither };

Accepts accepts(const Request& req) {
  const auto h = req.find(http::field::accept);
  if (h == req.end()) return Accepts::json;
  const std::string accept = lower(h->value());
  const auto has = [&](std::string_view type) { return accept.find(type) != std::string::npos; };
  if (has("application/json") || has("application/*") || has("*/*")) return Accepts::json;
  if (has("text/event-stream") || has("text/*")) return Accepts::sse;
  return Accepts::neither;
}

// Whether the client takes an event stream at all (it may prefer JSON).
bool accepts_sse(const Request& req) {
  const auto h = req.find(http::field::accept);
  if (h == req.end()) return false;
  const std::string accept = lower(h->value());
  return accept.find("text/event-stream") != std::string::npos ||
         accept.find("text/*") != std::string::npos;
}

struct Notifications {
  std::mutex mu;
  std::vector<std::string> items;  // guarded by mu
};

std::string random_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no session id can be made");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const auto b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// Whether the payload is a single initialize request (a session may start with nothing else).
bool is_initialize(std::string_view body) {
  const Payload p = parse_payload(body);
  if (p.batch || p.items.size() != 1) return false;
  const auto* m = std::get_if<Message>(&p.items.front());
  return m != nullptr && m->kind == Message::Kind::request && m->method == "initialize";
}

}  // namespace

bool loopback_origin(std::string_view origin) {
  std::string_view rest;
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (origin.substr(0, scheme.size()) == scheme) rest = origin.substr(scheme.size());
  }
  if (rest.empty()) return false;
  std::string_view host;
  std::string_view after;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    after = rest.substr(close + 1);
  } else {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    after = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
  }
  // Nothing but an optional port may follow the host (an Origin has no path).
  if (!after.empty()) {
    if (after.front() != ':' || after.size() < 2 || after.size() > 6) return false;
    if (!std::all_of(after.begin() + 1, after.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  }
  if (lower(host) == "localhost") return true;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

HttpTransport::HttpTransport(const McpServer& server, HttpOptions options)
    : server_(server), options_(std::move(options)) {}

std::size_t HttpTransport::sessions() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

bool HttpTransport::origin_allowed(std::string_view origin) const {
  if (loopback_origin(origin)) return true;
  return std::find(options_.allowed_origins.begin(), options_.allowed_origins.end(), origin) !=
         options_.allowed_origins.end();
}

std::shared_ptr<SessionState> HttpTransport::find_session(std::string_view id) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  const auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return nullptr;
  if (now - it->second.last_used > options_.session_idle_timeout) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_used = now;
  return it->second.state;
}

std::string HttpTransport::open_session(std::shared_ptr<SessionState> state) {
  const auto now = std::chrono::steady_clock::now();
  std::string id = random_id();
  std::lock_guard lock(mu_);
  if (sessions_.size() >= options_.max_sessions) {
    std::erase_if(sessions_, [&](const auto& kv) {
      return now - kv.second.last_used > options_.session_idle_timeout;
    });
    if (sessions_.size() >= options_.max_sessions) return {};
  }
  sessions_.emplace(id, Entry{std::move(state), now});
  return id;
}

asio::awaitable<Response> HttpTransport::handle(Request req) {
  if (const auto origin = req.find(http::field::origin); origin != req.end()) {
    if (!origin_allowed(origin->value())) {
      co_return refusal(req, http::status::forbidden,
                        "Origin '" + std::string(origin->value()) +
                            "' is not allowed: only loopback origins and [mcp] allowed_origins");
    }
  }
  switch (req.method()) {
    case http::verb::post:
      co_return co_await post(std::move(req));
    case http::verb::delete_:
      co_return end_session(req);
    default:
      break;
  }
  // GET would open a stream for server-initiated messages; this server sends none.
  auto res = refusal(req, http::status::method_not_allowed,
                     "use POST for JSON-RPC messages and DELETE to end a session; this server "
                     "opens no stream on GET");
  res.set(http::field::allow, "POST, DELETE");
  co_return res;
}

asio::awaitable<Response> HttpTransport::post(Request req) {
  const Accepts wanted = accepts(req);
  if (wanted == Accepts::neither) {
    co_return refusal(req, http::status::not_acceptable,
                      "Accept must include application/json or text/event-stream");
  }
  const std::string type = lower(req[http::field::content_type]);
  if (type.substr(0, type.find(';')) != "application/json") {
    co_return refusal(req, http::status::unsupported_media_type,
                      "Content-Type must be application/json");
  }
  const auto version_header = req.find(kVersionHeader);
  std::string header_version;
  if (version_header != req.end()) {
    header_version = std::string(version_header->value());
    if (!supported_version(header_version)) {
      co_return refusal(req, http::status::bad_request,
                        "MCP-Protocol-Version '" + header_version +
                            "' is not supported (supported: 2025-11-25, 2025-06-18, 2025-03-26)");
    }
  }
  std::shared_ptr<SessionState> session;
  bool opening = false;
  if (const auto id = req.find(kSessionHeader); id != req.end()) {
    session = find_session(id->value());
    if (!session) {
      co_return refusal(req, http::status::not_found,
                        "unknown or expired session: send initialize without Mcp-Session-Id to "
                        "start a new one");
    }
    if (!header_version.empty() && header_version != session->version()) {
      co_return refusal(req, http::status::bad_request,
                        "MCP-Protocol-Version '" + header_version + "' differs from the version " +
                            session->version() + " agreed at initialize");
    }
  } else {
    if (req.body().size() > server_.options().max_message_bytes || !is_initialize(req.body())) {
      co_return refusal(req, http::status::bad_request,
                        "Mcp-Session-Id header is required: send a single initialize request "
                        "first and use the id it returns");
    }
    session = std::make_shared<SessionState>();
    opening = true;
  }
  // Notifications a tool sends while it runs (progress). This transport writes whole responses,
  // so they go out in the POST's event stream just before its reply (or alone, when the request
  // was cancelled), and only to a client that accepts text/event-stream.
  auto notes = std::make_shared<Notifications>();
  CallContext::Sender send;
  if (accepts_sse(req)) {
    send = [notes](std::string n) {
      std::lock_guard lock(notes->mu);
      notes->items.push_back(std::move(n));
    };
  }
  Outcome out = co_await server_.handle(session, std::move(req.body()), std::move(send));
  std::string id;
  if (opening && session->phase() != SessionState::Phase::new_) {
    id = open_session(session);
    if (id.empty()) {
      co_return refusal(req, http::status::service_unavailable,
                        "too many MCP sessions open (" + std::to_string(options_.max_sessions) +
                            "); end one with DELETE or retry later");
    }
  }
  std::vector<std::string> sent;
  {
    std::lock_guard lock(notes->mu);
    sent.swap(notes->items);
  }
  if (!out.had_requests || (out.reply.empty() && sent.empty())) {
    co_return reply(req, http::status::accepted, "", "");
  }
  const bool sse = wanted == Accepts::sse || !sent.empty();
  Response res{http::status::ok, req.version()};
  if (sse) {
    std::string body;
    for (const auto& n : sent) body += "event: message\ndata: " + n + "\n\n";
    if (!out.reply.empty()) body += "event: message\ndata: " + out.reply + "\n\n";
    res = reply(req, http::status::ok, "text/event-stream", std::move(body));
    res.set(http::field::cache_control, "no-cache");
  } else {
    res = reply(req, http::status::ok, "application/json", std::move(out.reply));
  }
  if (!id.empty()) res.set(kSessionHeader, id);
  co_return res;
}

Response HttpTransport::end_session(const Request& req) {
  const auto id = req.find(kSessionHeader);
  if (id == req.end()) {
    return refusal(req, http::status::bad_request, "DELETE needs the Mcp-Session-Id header");
  }
  std::lock_guard lock(mu_);
  if (sessions_.erase(std::string(id->value())) == 0) {
    return refusal(req, http::status::not_found, "unknown or expired session");
  }
  return reply(req, http::status::no_content, "", "");
}

}  // namespace tiercache::server::mcp
