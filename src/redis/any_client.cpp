#include "tiercache/redis/any_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tiercache::redis {

asio::awaitable<Result<resp::Reply>> AnyClient::exec(resp::Request request) {
  auto [ec, reply] = co_await async_exec(std::move(request), asio::as_tuple(asio::use_awaitable));
  if (ec) co_return ec;
  co_return std::move(reply);
}

asio::awaitable<Result<resp::Reply>> AnyClient::exec_on(std::string primary,
                                                        resp::Request request) {
  auto [ec, reply] = co_await async_exec_on(std::move(primary), std::move(request),
                                            asio::as_tuple(asio::use_awaitable));
  if (ec) co_return ec;
  co_return std::move(reply);
}

}  // namespace tiercache::redis
