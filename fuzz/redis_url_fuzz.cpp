// Fuzzes redis::parse_url, which reads untrusted text (REDIS_URL, config files). It must never
// crash, and a URL it accepts must survive the round trip: parse_url(to_url(cfg, true)) == cfg.
#include "tiercache/redis/url.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using tiercache::redis::Config;

bool same(const Config& a, const Config& b) {
  return a.host == b.host && a.port == b.port && a.unix_socket == b.unix_socket &&
         a.tls.enabled == b.tls.enabled && a.tls.ca_file == b.tls.ca_file &&
         a.tls.cert_file == b.tls.cert_file && a.tls.key_file == b.tls.key_file &&
         a.tls.server_name == b.tls.server_name && a.tls.verify_peer == b.tls.verify_peer &&
         a.username == b.username && a.password == b.password && a.database == b.database &&
         a.client_name == b.client_name && a.protocol == b.protocol &&
         a.connect_timeout == b.connect_timeout && a.request_timeout == b.request_timeout &&
         a.link_timeout == b.link_timeout && a.connections == b.connections;
}

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& url) {
  std::fprintf(stderr, "%s\n  input: %.*s\n  to_url: %s\n", what, static_cast<int>(input.size()),
               input.data(), url.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto config = tiercache::redis::parse_url(input, &why);
  if (!config) {
    if (why.empty()) fail("rejected without a reason", input, "");
    return 0;
  }
  (void)config->describe();
  const std::string url = tiercache::redis::to_url(*config, /*show_password=*/true);
  const auto again = tiercache::redis::parse_url(url, &why);
  if (!again) fail(("to_url's output does not parse: " + why).c_str(), input, url);
  if (!same(*config, *again)) fail("the round trip changed the config", input, url);
  if (!tiercache::redis::parse_url(tiercache::redis::to_url(*config))) {
    fail("the masked URL does not parse", input, url);
  }
  return 0;
}
