#include "cli/redis_session.hpp"

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/cluster_client.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace tiercache::cli {
namespace {

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// The library logs through spdlog's default logger, which writes to stdout: that is where `get`
// writes the value. Its warnings go to stderr instead, and only errors: what the command reports
// itself (Redis unreachable, a refused password) would otherwise be said twice.
void quiet_library_log() {
  static const bool once = [] {
    auto logger = std::make_shared<spdlog::logger>(
        "tiercache-cli", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_level(spdlog::level::err);
    spdlog::set_default_logger(std::move(logger));
    return true;
  }();
  (void)once;
}

asio::awaitable<error_code> ping_once(std::shared_ptr<redis::AnyClient> client) {
  resp::Request ping;
  ping.push("PING");
  auto r = co_await client->exec(std::move(ping));
  if (!r) co_return r.error();
  co_return error_code{};
}

}  // namespace

std::optional<RedisTarget> RedisTarget::parse(std::string_view url, std::string* why) {
  auto d = redis::parse_deployment_url(url, why);
  if (!d) {
    if (why != nullptr && why->empty()) *why = d.error().message();
    return std::nullopt;
  }
  RedisTarget t{.deployment = std::move(*d), .text = {}};
  t.text = t.deployment.cluster() ? std::string(url) : redis::to_url(t.deployment.config);
  if (t.deployment.cluster() && !t.deployment.config.password.empty()) {
    // A cluster URL has no to_url(): mask the password by hand (user:password@).
    const auto at = t.text.find('@');
    const auto colon = t.text.rfind(':', at);
    const auto scheme = t.text.find("://");
    if (at != std::string::npos && colon != std::string::npos && colon > scheme + 2) {
      t.text.replace(colon + 1, at - colon - 1, "***");
    }
  }
  return t;
}

bool RedisTarget::loopback() const {
  if (deployment.cluster()) {
    for (const auto& seed : deployment.cluster_seeds) {
      if (!is_loopback_host(seed.host)) return false;
    }
    return true;
  }
  return !deployment.config.unix_socket.empty() || is_loopback_host(deployment.config.host);
}

RedisSession::RedisSession(RedisTarget target, std::chrono::milliseconds timeout)
    : target_(std::move(target)), timeout_(timeout) {
  quiet_library_log();
  thread_ = std::thread([this] {
    io_.run();
    finished_.set_value();
  });
}

RedisSession::~RedisSession() {
  auto finished = finished_.get_future();
  caches_.clear();  // each Cache stops its client
  if (client_) client_->stop();
  work_.reset();
  // As redis::BlockingClient: with the clients stopped, run() returns once the last completions
  // have run; should one outlive stop(), do not hang the command.
  if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) io_.stop();
  thread_.join();
  client_.reset();
}

std::shared_ptr<redis::AnyClient> RedisSession::make_client(std::string client_name,
                                                            bool tracking) {
  redis::Config config = target_.deployment.config;
  config.client_name = std::move(client_name);
  config.client_tracking = tracking;
  // The only tracking client is an L1-off cache's: Redis need track its versions alone
  // (decision 0003). A cluster cannot (ClusterClient refuses OPTIN).
  config.tracking_optin = tracking && !target_.deployment.cluster();
  config.connect_timeout = timeout_;
  config.request_timeout = timeout_;
  if (target_.deployment.cluster()) {
    return std::make_shared<redis::ClusterClient>(
        io_.get_executor(), std::move(config),
        redis::ClusterOptions{.seeds = target_.deployment.cluster_seeds});
  }
  return std::make_shared<redis::Client>(io_.get_executor(), std::move(config));
}

cache::Cache& RedisSession::cache(const std::string& ns) {
  if (auto it = caches_.find(ns); it != caches_.end()) return *it->second;
  // Tracking on (OPTIN), though L1 is off: the cache then keeps namespace and tag versions in its
  // tracked table, so each read is one round trip, and it does not warn about an untracked L1.
  auto c = std::make_unique<cache::Cache>(make_client("tiercache-cli:" + ns, true),
                                          cache::Options{.ns = ns, .l1_bytes = 0});
  return *caches_.emplace(ns, std::move(c)).first->second;
}

std::shared_ptr<redis::AnyClient> RedisSession::client() {
  if (!client_) {
    client_ = make_client("tiercache-cli", false);
    client_->start();
  }
  return client_;
}

error_code RedisSession::ping() { return run(ping_once(client())); }

}  // namespace tiercache::cli
