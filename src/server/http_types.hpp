#pragma once
// The HTTP message types every part of the daemon passes around: Beast requests and responses
// with string bodies (a cached value is one contiguous string, so nothing is gained by more).
// Thread-safety: plain values.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace tiercache::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace tiercache::server
