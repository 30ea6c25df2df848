// Fuzz target: the caching proxy's readers of untrusted bytes (src/server/proxy/): a stored
// response read back from the cache, an upstream response's Cache-Control / Expires / Age, and a
// client's request target as a route parses and keys it. Nothing may crash, hang or throw; a
// stored response that decodes re-encodes to the same bytes.

#include "server/proxy/freshness.hpp"
#include "server/proxy/route.hpp"
#include "server/proxy/stored_response.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace tiercache::server;

const proxy::Route& route() {
  static const proxy::Route r = [] {
    proxy::RouteConfig c{.name = "w", .prefix = "/w", .upstream = "http://127.0.0.1:1/api"};
    c.params = {proxy::ParamRule{"city", {.letter_case = tiercache::cache::Case::lower}},
                proxy::ParamRule{"tags", {.order = tiercache::cache::Order::set}},
                proxy::ParamRule{"trace", {.ignored = true}}};
    c.key_headers = {"accept-language"};
    return proxy::Route(c);
  }();
  return r;
}

// Header values as a peer could send them: Beast refuses none, so cut at CR and LF ourselves.
std::string header_value(std::string_view text) {
  return std::string(text.substr(0, text.find_first_of("\r\n")));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto stored = proxy::decode_response(in)) {
    if (proxy::encode_response(*stored) != in) std::abort();
  }

  const auto third = in.size() / 3;
  Response res{http::status::ok, 11};
  res.set(http::field::cache_control, header_value(in.substr(0, third)));
  res.set(http::field::expires, header_value(in.substr(third, third)));
  res.set(http::field::age, header_value(in.substr(2 * third)));
  const auto f = proxy::origin_freshness(res, std::chrono::system_clock::now());
  if (f.fresh && *f.fresh <= std::chrono::milliseconds(0) && f.storable) std::abort();

  Request req{http::verb::get, std::string(in), 11};
  req.set(http::field::accept_language, header_value(in.substr(0, third)));
  req.set(http::field::cache_control, header_value(in));
  (void)proxy::client_bypasses_cache(req);
  if (!route().takes(std::string_view(req.target()).substr(0, req.target().find('?')))) return 0;
  auto parsed = route().parse(req);
  if (const auto* ok = std::get_if<proxy::RouteRequest>(&parsed)) {
    (void)route().key_for(*ok, req);
    (void)route().upstream_request(*ok, req);
  }
  return 0;
}
