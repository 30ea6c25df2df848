#pragma once
// ApiError: every error the daemon answers with, in one stable JSON shape (docs/openapi.json,
// docs/decisions/0010-daemon.md):  {"error":{"code":"invalid_key","message":"..."}}
// `code` is a stable snake_case token clients may branch on; `message` is for people.
// Use: return error_response(req, ApiError::bad_request("invalid_ttl", "ttl must be > 0"));
// Thread-safety: plain values and pure functions.

#include "tiercache/base/result.hpp"

#include "server/http_types.hpp"

#include <string>
#include <utility>

namespace tiercache::server {

struct ApiError {
  http::status status = http::status::internal_server_error;
  std::string code = "internal";
  std::string message{};

  static ApiError bad_request(std::string code, std::string message) {
    return {http::status::bad_request, std::move(code), std::move(message)};
  }
  static ApiError not_found(std::string code, std::string message) {
    return {http::status::not_found, std::move(code), std::move(message)};
  }
};

// The JSON body of an error: {"error":{"code":...,"message":...}}.
std::string error_body(const ApiError& error);
// A complete response: status, JSON body, Content-Type, keep-alive and version from `req`.
Response error_response(const Request& req, const ApiError& error);
// The ApiError for a library error (cache::Errc, redis::Errc, ratelimit::Errc...): invalid_key
// -> 400, value_too_large -> 413, redis_unavailable -> 503, timeouts -> 504, the rest 500.
ApiError from_error_code(error_code ec);

}  // namespace tiercache::server
