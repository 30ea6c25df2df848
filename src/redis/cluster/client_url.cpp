// parse_client_url: the options only a cluster has are taken out of the query here, and the rest
// of the URL is left to parse_deployment_url (redis/url.cpp), which checks every other part and
// refuses what it does not know. A cluster-only option on a single-server URL is refused by name:
// a server without replicas to choose from has nothing to apply it to.

#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/error.hpp"

#include <algorithm>
#include <cctype>

namespace tiercache::redis {
namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

std::optional<ReadFrom> read_from_of(std::string_view value) {
  if (value == "primary") return ReadFrom::primary;
  if (value == "replica") return ReadFrom::replica;
  if (value == "replica_preferred") return ReadFrom::replica_preferred;
  return std::nullopt;
}

Result<ClientSettings> refuse(std::string reason, std::string* why) {
  if (why != nullptr) *why = "invalid Redis URL: " + std::move(reason);
  return make_error_code(Errc::invalid_url);
}

}  // namespace

std::string_view to_string(ReadFrom read_from) noexcept {
  switch (read_from) {
    case ReadFrom::primary:
      return "primary";
    case ReadFrom::replica:
      return "replica";
    case ReadFrom::replica_preferred:
      return "replica_preferred";
  }
  return "primary";
}

std::string ClientSettings::describe() const {
  if (!cluster) return config.describe();
  std::string out = config.tls.enabled ? "tls cluster " : "cluster ";
  for (std::size_t i = 0; i < cluster->seeds.size(); ++i) {
    if (i != 0) out += ",";
    out += cluster->seeds[i].host + ":" + std::to_string(cluster->seeds[i].port);
  }
  if (cluster->read_from != ReadFrom::primary) {
    out += " (read_from=";
    out += to_string(cluster->read_from);
    out += ")";
  }
  return out;
}

Result<ClientSettings> parse_client_url(std::string_view url, std::string* why) {
  const bool cluster =
      starts_with_ci(url, "redis+cluster:") || starts_with_ci(url, "rediss+cluster:");
  std::string rest(url.substr(0, url.find('?')));
  std::optional<ReadFrom> read_from;
  if (const auto query_at = url.find('?'); query_at != std::string_view::npos) {
    const auto fragment_at = url.find('#', query_at);
    const std::string_view query = url.substr(query_at + 1, fragment_at - query_at - 1);
    std::string kept;
    std::size_t start = 0;
    for (;;) {
      const auto amp = query.find('&', start);
      const std::string_view param = query.substr(start, amp - start);
      const auto eq = param.find('=');
      const std::string_view key = param.substr(0, eq);
      if (key == "read_from") {
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
        if (!cluster) {
          return refuse(
              "read_from applies to a Redis Cluster URL (redis+cluster://h1:p1,h2:p2) only: "
              "a single server has no replicas to read from",
              why);
        }
        if (read_from) return refuse("option 'read_from' is given twice", why);
        read_from = read_from_of(value);
        if (!read_from) {
          return refuse("read_from must be primary, replica or replica_preferred, not '" +
                            std::string(value) + "'",
                        why);
        }
      } else {
        if (!kept.empty()) kept += '&';
        kept += param;
      }
      if (amp == std::string_view::npos) break;
      start = amp + 1;
    }
    if (!kept.empty()) rest += "?" + kept;
    if (fragment_at != std::string_view::npos) rest += url.substr(fragment_at);
  }
  auto deployment = parse_deployment_url(rest, why);
  if (!deployment) return deployment.error();
  ClientSettings out;
  out.config = std::move(deployment->config);
  if (deployment->cluster()) {
    out.cluster = ClusterOptions{};
    out.cluster->seeds = std::move(deployment->cluster_seeds);
    out.cluster->read_from = read_from.value_or(ReadFrom::primary);
  }
  return out;
}

}  // namespace tiercache::redis
