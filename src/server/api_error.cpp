#include "server/api_error.hpp"

#include "tiercache/cache/error.hpp"
#include "tiercache/ratelimit/error.hpp"
#include "tiercache/redis/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace tiercache::server {

std::string error_body(const ApiError& error) {
  boost::json::object inner;
  inner["code"] = error.code;
  inner["message"] = error.message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

Response error_response(const Request& req, const ApiError& error) {
  Response res{error.status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = error_body(error);
  res.prepare_payload();
  return res;
}

ApiError from_error_code(error_code ec) {
  using cache::Errc;
  if (ec.category() == cache::category()) {
    switch (static_cast<Errc>(ec.value())) {
      case Errc::invalid_key:
        return ApiError::bad_request("invalid_key", ec.message());
      case Errc::invalid_argument:
        return ApiError::bad_request("invalid_argument", ec.message());
      case Errc::value_too_large:
        return {http::status::payload_too_large, "value_too_large", ec.message()};
      case Errc::redis_unavailable:
        return {http::status::service_unavailable, "redis_unavailable", ec.message()};
      case Errc::loader_timeout:
        return {http::status::gateway_timeout, "timeout", ec.message()};
      case Errc::contention:
        return {http::status::conflict, "contention", ec.message()};
      default:
        return {http::status::internal_server_error, "cache_error", ec.message()};
    }
  }
  if (ec.category() == redis::category()) {
    return {http::status::service_unavailable, "redis_unavailable", ec.message()};
  }
  if (ec.category() == ratelimit::category()) {
    if (ec == ratelimit::Errc::invalid_argument) {
      return ApiError::bad_request("invalid_argument", ec.message());
    }
    return {http::status::service_unavailable, "ratelimit_unavailable", ec.message()};
  }
  return {http::status::internal_server_error, "internal", ec.message()};
}

}  // namespace tiercache::server
