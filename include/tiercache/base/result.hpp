#pragma once
// Result<T>: a value or the error_code that says why there is none (boost::system::result).
// Use: Result<Reply> r = co_await client.exec(req); if (!r) log(r.error().message());
// Errors are values because timeouts and lost links are routine when Redis is down and must stay
// cheap. Functions returning a Result are [[nodiscard]] at their declaration (the Boost type is
// not).

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace tiercache {

template <class T>
using Result = boost::system::result<T>;

using boost::system::error_code;

}  // namespace tiercache
