// ProxyConfig: the `[proxy]` reader. As everywhere in the config, unknown keys are errors at
// their line, so a typo fails the start instead of being silently ignored.

#include "server/proxy/route_config.hpp"

#include "server/config.hpp"
#include "server/toml_fields.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

namespace tiercache::server::proxy {
namespace {

std::vector<std::string> strings_of(const toml::node& node, const std::string& field) {
  const auto* array = node.as_array();
  if (array == nullptr) bad(field, node, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *array) out.push_back(string_of(item, field + "[]"));
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool valid_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

std::vector<std::string> header_names_of(const toml::node& node, const std::string& field) {
  auto names = strings_of(node, field);
  for (auto& name : names) {
    if (!valid_header_name(name)) bad(field, node, "\"" + name + "\" is not a header name");
    name = lower(std::move(name));
  }
  return names;
}

cache::FieldRule param_rule_of(const toml::node& node, const std::string& field) {
  const toml::table& t = table_of(node, field);
  only_keys(t, field + ".", {"case", "order", "trim", "default", "ignore"});
  cache::FieldRule rule;
  if (const auto* n = t.get("case")) {
    const auto text = string_of(*n, field + ".case");
    if (text == "lower") {
      rule.letter_case = cache::Case::lower;
    } else if (text == "upper") {
      rule.letter_case = cache::Case::upper;
    } else if (text != "as_is") {
      bad(field + ".case", *n, "must be lower, upper or as_is");
    }
  }
  if (const auto* n = t.get("order")) {
    const auto text = string_of(*n, field + ".order");
    if (text == "sorted") {
      rule.order = cache::Order::sorted;
    } else if (text == "set") {
      rule.order = cache::Order::set;
    } else if (text != "as_is") {
      bad(field + ".order", *n, "must be sorted, set or as_is");
    }
  }
  if (const auto* n = t.get("trim")) rule.trim = bool_of(*n, field + ".trim");
  if (const auto* n = t.get("default")) rule.default_value = string_of(*n, field + ".default");
  if (const auto* n = t.get("ignore")) rule.ignored = bool_of(*n, field + ".ignore");
  return rule;
}

void check_upstream(const toml::node& node, const std::string& field, const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) bad(field, node, "must be an absolute http:// or https:// URL");
  if (parsed->scheme() != "http" && parsed->scheme() != "https") {
    bad(field, node, "must be an http:// or https:// URL");
  }
  if (parsed->host().empty()) bad(field, node, "must name a host");
  if (parsed->has_query() || parsed->has_fragment()) {
    bad(field, node, "must not have a query or fragment");
  }
}

// "/weather", without a trailing slash; not one of the daemon's own paths.
std::string prefix_of(const toml::node& node, const std::string& field) {
  std::string prefix = string_of(node, field);
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  const bool printable = std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '?' && c != '#' && c != '%';
  });
  if (prefix.size() < 2 || prefix.front() != '/' || !printable) {
    bad(field, node, "must be a path such as \"/weather\" (no query, no percent-escapes)");
  }
  for (std::string_view own :
       {"/v1", "/healthz", "/readyz", "/metrics", "/openapi.json", "/mcp", "/dashboard"}) {
    if (prefix == own || prefix.starts_with(std::string(own) + "/")) {
      bad(field, node, "\"" + std::string(own) + "\" is the daemon's own path");
    }
  }
  return prefix;
}

RouteConfig read_route(const std::string& name, const toml::table& t) {
  const std::string at = "proxy.routes." + name + ".";
  only_keys(t, at,
            {"prefix",
             "upstream",
             "namespace",
             "data_type",
             "ttl",
             "stale_while_revalidate",
             "stale_if_error",
             "respect_origin",
             "cacheable_statuses",
             "max_body_size",
             "l1_bytes",
             "timeout",
             "connect_timeout",
             "max_connections",
             "ca_file",
             "verify_tls",
             "rate_limit",
             "rate_limit_wait",
             "date_param",
             "results_field",
             "params",
             "ignore_unlisted_params",
             "forward_headers",
             "key_headers",
             "upstream_headers"});
  RouteConfig r{.name = name, .prefix = "/" + name, .ns = "proxy." + name, .data_type = name};
  if (const auto* n = t.get("prefix")) r.prefix = prefix_of(*n, at + "prefix");
  if (const auto* n = t.get("upstream")) {
    r.upstream = string_of(*n, at + "upstream");
    check_upstream(*n, at + "upstream", r.upstream);
  } else {
    bad(at + "upstream", t, "is required (the upstream's base URL)");
  }
  if (const auto* n = t.get("namespace")) {
    r.ns = string_of(*n, at + "namespace");
    if (!valid_namespace_name(r.ns)) bad(at + "namespace", *n, "must be 1-64 of [A-Za-z0-9_.-]");
  }
  if (const auto* n = t.get("data_type")) r.data_type = string_of(*n, at + "data_type");
  if (const auto* n = t.get("ttl")) r.ttl = duration_of(*n, at + "ttl");
  if (const auto* n = t.get("stale_while_revalidate")) {
    r.stale_while_revalidate = duration_of(*n, at + "stale_while_revalidate", true);
  }
  if (const auto* n = t.get("stale_if_error")) {
    r.stale_if_error = duration_of(*n, at + "stale_if_error", true);
  }
  if (const auto* n = t.get("respect_origin"))
    r.respect_origin = bool_of(*n, at + "respect_origin");
  if (const auto* n = t.get("cacheable_statuses")) {
    const auto* array = n->as_array();
    if (array == nullptr) bad(at + "cacheable_statuses", *n, "must be an array of statuses");
    r.cacheable_statuses.clear();
    for (const auto& item : *array) {
      const auto status = int_of(item, at + "cacheable_statuses[]", 200, 499);
      if (status == 429) bad(at + "cacheable_statuses[]", item, "429 is an upstream failure");
      r.cacheable_statuses.push_back(static_cast<unsigned>(status));
    }
  }
  if (const auto* n = t.get("max_body_size")) {
    r.max_body_bytes = size_of(*n, at + "max_body_size");
    if (r.max_body_bytes == 0) bad(at + "max_body_size", *n, "must be greater than 0");
  }
  if (const auto* n = t.get("l1_bytes")) r.l1_bytes = size_of(*n, at + "l1_bytes");
  if (const auto* n = t.get("timeout")) r.timeout = duration_of(*n, at + "timeout");
  if (const auto* n = t.get("connect_timeout")) {
    r.connect_timeout = duration_of(*n, at + "connect_timeout");
  }
  if (const auto* n = t.get("max_connections")) {
    r.max_connections = static_cast<std::size_t>(int_of(*n, at + "max_connections", 1, 65536));
  }
  if (const auto* n = t.get("ca_file")) r.ca_file = string_of(*n, at + "ca_file");
  if (const auto* n = t.get("verify_tls")) r.verify_tls = bool_of(*n, at + "verify_tls");
  if (const auto* n = t.get("rate_limit")) r.rate_limit = string_of(*n, at + "rate_limit");
  if (const auto* n = t.get("rate_limit_wait")) {
    r.rate_limit_wait = duration_of(*n, at + "rate_limit_wait", true);
  }
  if (const auto* n = t.get("date_param")) r.date_param = string_of(*n, at + "date_param");
  if (const auto* n = t.get("results_field")) {
    r.results_field = string_of(*n, at + "results_field");
  }
  if (const auto* n = t.get("params")) {
    for (const auto& [key, node] : table_of(*n, at + "params")) {
      const std::string param(key.str());
      r.params.push_back({.name = param, .rule = param_rule_of(node, at + "params." + param)});
    }
  }
  if (const auto* n = t.get("ignore_unlisted_params")) {
    r.ignore_unlisted_params = bool_of(*n, at + "ignore_unlisted_params");
  }
  if (const auto* n = t.get("forward_headers")) {
    r.forward_headers = header_names_of(*n, at + "forward_headers");
  }
  if (const auto* n = t.get("key_headers")) r.key_headers = header_names_of(*n, at + "key_headers");
  if (const auto* n = t.get("upstream_headers")) {
    for (const auto& [key, node] : table_of(*n, at + "upstream_headers")) {
      const std::string header(key.str());
      if (!valid_header_name(header)) bad(at + "upstream_headers." + header, node, "bad name");
      r.upstream_headers[header] = string_of(node, at + "upstream_headers." + header);
    }
  }
  return r;
}

}  // namespace

ProxyConfig read_proxy_config(const toml::table& proxy) {
  only_keys(proxy, "proxy.", {"routes", "ttl_policy"});
  ProxyConfig out;
  if (const auto* n = proxy.get("ttl_policy")) out.ttl_policy = string_of(*n, "proxy.ttl_policy");
  if (const auto* n = proxy.get("routes")) {
    for (const auto& [key, node] : table_of(*n, "proxy.routes")) {
      const std::string name(key.str());
      if (!valid_namespace_name(name)) {
        bad("proxy.routes." + name, node, "a route name is 1-64 of [A-Za-z0-9_.-]");
      }
      out.routes.push_back(read_route(name, table_of(node, "proxy.routes." + name)));
    }
  }
  for (std::size_t i = 0; i < out.routes.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (out.routes[i].prefix == out.routes[j].prefix) {
        bad("proxy.routes." + out.routes[i].name + ".prefix", *proxy.get("routes"),
            "the same prefix as route " + out.routes[j].name);
      }
    }
  }
  return out;
}

}  // namespace tiercache::server::proxy
