// Redis URLs. Boost.URL checks the RFC 3986 syntax and decodes percent-escapes; this file checks
// what a Redis URL means: scheme, host, port, database and options, each with a sentence that
// names the bad part. Values are checked strictly (digits only, bounded) because a URL is
// untrusted input: it comes from an environment variable or a config file typed by a person.
#include "tiercache/redis/url.hpp"

#include "tiercache/redis/error.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>

namespace tiercache::redis {
namespace {

namespace urls = boost::urls;

constexpr std::int64_t kMaxDurationMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxConnections = 1024;

// The failure of one check: the sentence for `why`.
struct Bad {
  std::string why;
};

template <class T>
using Checked = std::variant<T, Bad>;

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A non-negative decimal integer, digits only, at most `max`.
std::optional<std::uint64_t> parse_unsigned(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value > max) return std::nullopt;
  return value;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

Checked<std::uint16_t> check_port(std::string_view s) {
  if (s.empty()) return Bad{"port is empty"};
  if (!all_digits(s)) return Bad{"port " + quoted(s) + " is not a number"};
  const auto port = parse_unsigned(s, 65535);
  if (!port || *port == 0) return Bad{"port " + std::string(s) + " is out of range (1-65535)"};
  return static_cast<std::uint16_t>(*port);
}

Checked<int> check_database(std::string_view s) {
  if (!all_digits(s)) return Bad{"database " + quoted(s) + " is not a non-negative integer"};
  const auto db = parse_unsigned(s, static_cast<std::uint64_t>(std::numeric_limits<int>::max()));
  if (!db) return Bad{"database " + std::string(s) + " is out of range"};
  return static_cast<int>(*db);
}

// A host name as DNS and Redis see it: letters, digits, '-', '_' and '.'.
bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Boost.URL 1.81 reads a host that begins with an IPv4 address and goes on ("1.2.3.4x",
// "1.2.3.4.example.com") as that address followed by a path. Such a name, even when given
// percent-encoded, could not be written back into a URL that reads the same: refused.
constexpr std::string_view kIpv4PrefixName =
    " begins with an IPv4 address and goes on: not supported (Boost.URL 1.81 reads such a name "
    "as the address followed by a path)";
bool begins_like_ipv4(std::string_view name) {
  const auto u = urls::parse_uri("redis://" + std::string(name) + "/");
  return u && u->host_type() == urls::host_type::ipv4 && u->host_address() != name;
}

// Plain milliseconds, or a number with the unit ms, s or m; at most a day.
Checked<std::chrono::milliseconds> check_duration(std::string_view name, std::string_view s) {
  const std::size_t digits = s.find_first_not_of("0123456789");
  const std::string_view number = s.substr(0, digits);
  const std::string_view unit = digits == std::string_view::npos ? "" : s.substr(digits);
  std::int64_t scale = 0;
  if (unit.empty() || unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = 60 * 1000;
  const auto value = parse_unsigned(number, static_cast<std::uint64_t>(kMaxDurationMs));
  if (scale == 0 || !value) {
    return Bad{std::string(name) + " " + quoted(s) +
               " is not a duration (write milliseconds, or a number with ms, s or m)"};
  }
  const std::int64_t ms = static_cast<std::int64_t>(*value) * scale;
  if (ms > kMaxDurationMs) return Bad{std::string(name) + " " + std::string(s) + " is over a day"};
  return std::chrono::milliseconds(ms);
}

Checked<bool> check_bool(std::string_view name, std::string_view s) {
  for (const char* yes : {"true", "1", "yes", "on"}) {
    if (urls::grammar::ci_is_equal(s, yes)) return true;
  }
  for (const char* no : {"false", "0", "no", "off"}) {
    if (urls::grammar::ci_is_equal(s, no)) return false;
  }
  return Bad{std::string(name) + " " + quoted(s) + " is not true or false"};
}

// Redis refuses client names with spaces, newlines or other special characters.
bool is_client_name(std::string_view s) {
  for (const char c : s) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// Applies one query option to `config`. `tls` says the scheme is rediss.
std::optional<Bad> apply_option(Config& config, bool tls, std::string_view key,
                                std::string_view value, std::optional<int>& db) {
  const auto no_nul = [&](std::string& field) -> std::optional<Bad> {
    if (value.find('\0') != std::string_view::npos) {
      return Bad{"option '" + std::string(key) + "' contains a NUL byte"};
    }
    field = std::string(value);
    return std::nullopt;
  };
  const auto duration = [&](std::chrono::milliseconds& field, bool zero_ok) -> std::optional<Bad> {
    auto d = check_duration(key, value);
    if (auto* bad = std::get_if<Bad>(&d)) return std::move(*bad);
    const auto ms = std::get<std::chrono::milliseconds>(d);
    if (!zero_ok && ms.count() == 0) return Bad{std::string(key) + " must be above zero"};
    field = ms;
    return std::nullopt;
  };

  if (key == "connect_timeout") return duration(config.connect_timeout, false);
  if (key == "request_timeout") return duration(config.request_timeout, false);
  if (key == "link_timeout") return duration(config.link_timeout, true);
  if (key == "connections") {
    const auto n = all_digits(value) ? parse_unsigned(value, kMaxConnections) : std::nullopt;
    if (!n || *n == 0) {
      return Bad{"connections " + quoted(value) + " is not a number from 1 to " +
                 std::to_string(kMaxConnections)};
    }
    config.connections = static_cast<std::size_t>(*n);
    return std::nullopt;
  }
  if (key == "client_name") {
    if (!is_client_name(value)) {
      return Bad{"client_name " + quoted(value) + " may not contain spaces or special characters"};
    }
    config.client_name = std::string(value);
    return std::nullopt;
  }
  if (key == "protocol") {
    if (value != "2" && value != "3") return Bad{"protocol " + quoted(value) + " is not 2 or 3"};
    config.protocol = value == "2" ? 2 : 3;
    return std::nullopt;
  }
  if (key == "db") {
    auto d = check_database(value);
    if (auto* bad = std::get_if<Bad>(&d)) return std::move(*bad);
    db = std::get<int>(d);
    return std::nullopt;
  }
  const bool tls_option = key == "ca_file" || key == "cert_file" || key == "key_file" ||
                          key == "server_name" || key == "verify_peer";
  if (tls_option && !tls) {
    return Bad{"option '" + std::string(key) + "' is for rediss:// URLs only"};
  }
  if (key == "ca_file") return no_nul(config.tls.ca_file);
  if (key == "cert_file") return no_nul(config.tls.cert_file);
  if (key == "key_file") return no_nul(config.tls.key_file);
  if (key == "server_name") {
    if (!is_host_name(value)) return Bad{"server_name " + quoted(value) + " is not a host name"};
    config.tls.server_name = std::string(value);
    return std::nullopt;
  }
  if (key == "verify_peer") {
    auto b = check_bool(key, value);
    if (auto* bad = std::get_if<Bad>(&b)) return std::move(*bad);
    config.tls.verify_peer = std::get<bool>(b);
    return std::nullopt;
  }
  return Bad{"unknown option " + quoted(key)};
}

Checked<Config> parse(std::string_view text) {
  const auto parsed = urls::parse_uri(text);
  if (!parsed) {
    return Bad{"not a URL (expected redis://host:port/db, rediss://... or unix:///path)"};
  }
  const urls::url_view& u = *parsed;
  const std::string_view scheme = u.scheme();
  const bool is_unix = urls::grammar::ci_is_equal(scheme, "unix");
  const bool tls = urls::grammar::ci_is_equal(scheme, "rediss");
  if (urls::grammar::ci_is_equal(scheme, "redis+cluster") ||
      urls::grammar::ci_is_equal(scheme, "rediss+cluster")) {
    return Bad{"scheme " + quoted(scheme) +
               " names a Redis Cluster: read it with parse_deployment_url (or make_client)"};
  }
  if (!is_unix && !tls && !urls::grammar::ci_is_equal(scheme, "redis")) {
    return Bad{"scheme " + quoted(scheme) +
               " is not redis, rediss, unix, redis+cluster or rediss+cluster"};
  }
  if (u.has_fragment()) return Bad{"a fragment ('#...') has no meaning in a Redis URL"};

  Config config;
  config.tls.enabled = tls;
  if (u.has_userinfo()) {
    config.username = u.user();
    if (u.has_password()) config.password = u.password();
  }

  std::optional<int> path_db;
  const std::string path = u.path();
  if (is_unix) {
    if (u.has_authority() && !u.host_address().empty()) {
      return Bad{"a unix URL has no host: write unix:///path/to/socket (three slashes), not " +
                 quoted("unix://" + std::string(u.encoded_host()) + "/...")};
    }
    if (u.has_port()) return Bad{"a unix URL has no port"};
    if (path.empty()) return Bad{"the socket path is missing (unix:///path/to/socket)"};
    if (path.front() != '/') return Bad{"the socket path " + quoted(path) + " is not absolute"};
    if (path.find('\0') != std::string::npos) return Bad{"the socket path contains a NUL byte"};
    config.unix_socket = path;
  } else {
    if (!u.has_authority() || u.host_type() == urls::host_type::none || u.host_address().empty()) {
      return Bad{"the host is missing (redis://host:port)"};
    }
    switch (u.host_type()) {
      case urls::host_type::ipvfuture:
        return Bad{"IPvFuture address " + quoted(u.encoded_host()) + " is not supported"};
      case urls::host_type::name:
        if (!is_host_name(u.host_address())) {
          return Bad{"host " + quoted(u.host_address()) + " is not a valid host name"};
        }
        if (begins_like_ipv4(u.host_address())) {
          return Bad{"host " + quoted(u.host_address()) + std::string(kIpv4PrefixName)};
        }
        break;
      case urls::host_type::ipv4:
        if (!u.has_port() && !path.empty() && path.front() != '/') {
          // The misreading itself: "redis://1.2.3.4x:6379" gives host 1.2.3.4, path "x:6379".
          const std::string name = u.host_address() + path.substr(0, path.find_first_of(":/"));
          return Bad{"host " + quoted(name) + std::string(kIpv4PrefixName)};
        }
        break;
      default:
        break;
    }
    config.host = u.host_address();
    if (u.has_port()) {
      auto port = check_port(u.port());
      if (auto* bad = std::get_if<Bad>(&port)) return std::move(*bad);
      config.port = std::get<std::uint16_t>(port);
    }
    if (!path.empty() && path.front() != '/') {
      // Boost.URL 1.81 reads "redis://h:12a" as port 12 and path "a".
      return Bad{"port " + quoted(std::string(u.port()) + path) + " is not a number"};
    }
    if (!path.empty() && path != "/") {
      auto db = check_database(std::string_view(path).substr(1));
      if (std::holds_alternative<Bad>(db)) {
        return Bad{"the path " + quoted(path) + " is not a database number (/0, /1, ...)"};
      }
      path_db = std::get<int>(db);
    }
  }

  std::optional<int> query_db;
  std::set<std::string, std::less<>> seen;
  for (const auto& param : u.params(urls::encoding_opts(false))) {
    if (!seen.insert(param.key).second) return Bad{"option " + quoted(param.key) + " is repeated"};
    if (!param.has_value) return Bad{"option " + quoted(param.key) + " has no value"};
    if (auto bad = apply_option(config, tls, param.key, param.value, query_db)) return *bad;
  }
  if (path_db && query_db) return Bad{"the database is given twice (in the path and as db=)"};
  config.database = path_db.value_or(query_db.value_or(0));
  if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
    return Bad{"cert_file and key_file go together (a client certificate needs its key)"};
  }
  return config;
}

std::string encode(std::string_view s) { return urls::encode(s, urls::unreserved_chars); }

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// Reads one environment variable; empty counts as unset.
std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): documented
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// redis+cluster://[userinfo@]h1:p1,h2:p2[/][?query]: each seed is checked as the host and port
// of a plain URL with the same userinfo and query, so every rule of parse() applies to it.
Checked<Deployment> parse_cluster(std::string_view text, bool tls) {
  const auto slashes = text.find("://");
  if (slashes == std::string_view::npos)
    return Bad{"expected " + quoted(text.substr(0, text.find(':'))) + "://host:port,..."};
  const std::string_view rest = text.substr(slashes + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  const auto at = authority.rfind('@');
  const std::string_view userinfo =
      at == std::string_view::npos ? std::string_view() : authority.substr(0, at + 1);
  const std::string_view hosts =
      at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (!tail.empty() && tail.front() == '/' && tail.size() > 1 && tail[1] != '?') {
    return Bad{"a Redis Cluster has only database 0: remove the path " +
               quoted(tail.substr(0, tail.find('?')))};
  }
  const std::string prefix = std::string(tls ? "rediss://" : "redis://") + std::string(userinfo);
  Deployment out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = hosts.find(',', start);
    const std::string_view host = hosts.substr(start, comma - start);
    if (host.empty()) return Bad{"a seed node is missing (redis+cluster://h1:p1,h2:p2)"};
    auto one = parse(prefix + std::string(host) + std::string(tail));
    if (auto* bad = std::get_if<Bad>(&one)) return Bad{"seed " + quoted(host) + ": " + bad->why};
    Config& config = std::get<Config>(one);
    if (config.database != 0) return Bad{"a Redis Cluster has only database 0"};
    ServerAddress seed{config.host, config.port};
    if (out.cluster_seeds.empty()) out.config = std::move(config);
    if (std::find(out.cluster_seeds.begin(), out.cluster_seeds.end(), seed) ==
        out.cluster_seeds.end()) {
      out.cluster_seeds.push_back(std::move(seed));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<Deployment> parse_deployment_url(std::string_view url, std::string* why) {
  const auto colon = url.find(':');
  const std::string_view scheme = url.substr(0, colon == std::string_view::npos ? 0 : colon);
  const bool cluster = urls::grammar::ci_is_equal(scheme, "redis+cluster");
  const bool cluster_tls = urls::grammar::ci_is_equal(scheme, "rediss+cluster");
  if (!cluster && !cluster_tls) {
    auto config = parse_url(url, why);
    if (!config) return config.error();
    return Deployment{.config = std::move(*config), .cluster_seeds = {}};
  }
  auto result = parse_cluster(url, cluster_tls);
  if (auto* bad = std::get_if<Bad>(&result)) {
    if (why != nullptr) *why = "invalid Redis URL: " + bad->why;
    return make_error_code(Errc::invalid_url);
  }
  return std::move(std::get<Deployment>(result));
}

Result<Config> parse_url(std::string_view url, std::string* why) {
  auto result = parse(url);
  if (auto* bad = std::get_if<Bad>(&result)) {
    if (why != nullptr) *why = "invalid Redis URL: " + bad->why;
    return make_error_code(Errc::invalid_url);
  }
  return std::move(std::get<Config>(result));
}

Result<Config> config_from_env(std::string* why) {
  const auto fail = [&](std::string sentence) -> Result<Config> {
    if (why != nullptr) *why = std::move(sentence);
    return make_error_code(Errc::invalid_url);
  };
  if (const auto url = env("REDIS_URL")) {
    std::string reason;
    auto config = parse_url(*url, &reason);
    if (!config) return fail("REDIS_URL: " + reason);
    return config;
  }

  Config config;
  if (auto host = env("REDIS_HOST")) {
    std::string_view h = *host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    const bool ipv6 = h.find(':') != std::string_view::npos && urls::parse_ipv6_address(h);
    if (!ipv6 && !is_host_name(h)) {
      return fail("REDIS_HOST: " + quoted(*host) + " is not a host name or an IP address");
    }
    config.host = std::string(h);
  }
  if (auto port = env("REDIS_PORT")) {
    auto p = check_port(*port);
    if (auto* bad = std::get_if<Bad>(&p)) return fail("REDIS_PORT: " + bad->why);
    config.port = std::get<std::uint16_t>(p);
  }
  if (auto db = env("REDIS_DB")) {
    auto d = check_database(*db);
    if (auto* bad = std::get_if<Bad>(&d)) return fail("REDIS_DB: " + bad->why);
    config.database = std::get<int>(d);
  }
  if (auto password = env("REDIS_PASSWORD")) config.password = std::move(*password);
  if (auto username = env("REDIS_USERNAME")) config.username = std::move(*username);
  return config;
}

std::string to_url(const Config& config, bool show_password) {
  const Config defaults;
  std::string url;
  if (!config.unix_socket.empty()) {
    url = "unix://";
  } else {
    url = config.tls.enabled ? "rediss://" : "redis://";
  }
  if (!config.username.empty() || !config.password.empty()) {
    url += encode(config.username);
    if (!config.password.empty()) url += ":" + (show_password ? encode(config.password) : "***");
    url += "@";
  }
  if (!config.unix_socket.empty()) {
    for (const char c : config.unix_socket) {
      url += c == '/' ? std::string("/") : encode(std::string_view(&c, 1));
    }
  } else {
    const bool ipv6 = config.host.find(':') != std::string::npos;
    url += ipv6 ? "[" + config.host + "]" : config.host;
    if (config.port != defaults.port) url += ":" + std::to_string(config.port);
    if (config.database != 0) url += "/" + std::to_string(config.database);
  }

  std::string query;
  const auto add = [&](std::string_view key, const std::string& value) {
    query += query.empty() ? "?" : "&";
    query += key;
    query += "=";
    query += encode(value);
  };
  if (!config.unix_socket.empty() && config.database != 0) {
    add("db", std::to_string(config.database));
  }
  if (config.connect_timeout != defaults.connect_timeout) {
    add("connect_timeout", format_duration(config.connect_timeout));
  }
  if (config.request_timeout != defaults.request_timeout) {
    add("request_timeout", format_duration(config.request_timeout));
  }
  if (config.link_timeout != defaults.link_timeout) {
    add("link_timeout", format_duration(config.link_timeout));
  }
  if (config.connections != defaults.connections) {
    add("connections", std::to_string(config.connections));
  }
  if (config.client_name != defaults.client_name) add("client_name", config.client_name);
  if (config.protocol != defaults.protocol) add("protocol", std::to_string(config.protocol));
  if (config.tls.enabled && config.unix_socket.empty()) {
    if (!config.tls.ca_file.empty()) add("ca_file", config.tls.ca_file);
    if (!config.tls.cert_file.empty()) add("cert_file", config.tls.cert_file);
    if (!config.tls.key_file.empty()) add("key_file", config.tls.key_file);
    if (!config.tls.server_name.empty()) add("server_name", config.tls.server_name);
    if (!config.tls.verify_peer) add("verify_peer", "false");
  }
  return url + query;
}

}  // namespace tiercache::redis
