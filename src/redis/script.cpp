#include "tiercache/redis/script.hpp"

#include <openssl/evp.h>

#include <stdexcept>
#include <string_view>

namespace tiercache::redis {
namespace {

// SHA1 as Redis names scripts: 40 lowercase hex digits. EVP, because OpenSSL 3 deprecates SHA1().
std::string sha1_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL could not compute a SHA1");
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

}  // namespace

Script::Script(std::string source) {
  std::string sha1 = sha1_hex(source);
  body_ = std::make_shared<const Body>(Body{std::move(source), std::move(sha1)});
}

asio::awaitable<Result<resp::Reply>> Script::exec(AnyClient& client, std::vector<std::string> keys,
                                                  std::vector<std::string> args) const {
  auto [ec, reply] = co_await async_exec(client, std::move(keys), std::move(args),
                                         asio::as_tuple(asio::use_awaitable));
  if (ec) co_return ec;
  co_return std::move(reply);
}

resp::Request Script::evalsha_request(const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args) const {
  return make_request(*body_, false, keys, args);
}

resp::Request Script::eval_request(const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) const {
  return make_request(*body_, true, keys, args);
}

bool Script::is_noscript(const resp::ReplyView& reply) noexcept {
  return reply.is_error() && reply.str().starts_with("NOSCRIPT");
}

resp::Request Script::make_request(const Body& body, bool eval,
                                   const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
  const std::string numkeys = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(2 + keys.size() + args.size());
  argv.push_back(eval ? std::string_view(body.source) : std::string_view(body.sha1));
  argv.push_back(numkeys);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  resp::Request request;
  request.push_range(eval ? "EVAL" : "EVALSHA", "", argv);
  return request;
}

}  // namespace tiercache::redis
