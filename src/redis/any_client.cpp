#include "tiercache/redis/any_client.hpp"

#include <boost/asio/associator.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tiercache::redis::detail {

// The handler of exec() and exec_on(): use_awaitable's handler of void(Result<Reply>), called
// with (error_code, Reply). exec() is no coroutine of its own: the caller's coroutine awaits the
// operation itself, with no frame, resumption or copy of the reply in between.
template <class Handler>
struct AsResult {
  Handler handler;

  void operator()(error_code ec, resp::Reply reply) {
    if (ec) {
      std::move(handler)(Result<resp::Reply>(ec));
    } else {
      std::move(handler)(Result<resp::Reply>(std::move(reply)));
    }
  }
};

}  // namespace tiercache::redis::detail

// AsResult runs where its handler runs and is cancelled with it.
template <template <typename, typename> class Associator, typename Handler,
          typename DefaultCandidate>
struct boost::asio::associator<Associator, tiercache::redis::detail::AsResult<Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const tiercache::redis::detail::AsResult<Handler>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler);
  }
  static auto get(const tiercache::redis::detail::AsResult<Handler>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};

namespace tiercache::redis {

using ResultSignature = void(Result<resp::Reply>);

asio::awaitable<Result<resp::Reply>> AnyClient::exec(resp::Request request) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, ResultSignature>(
      [this](auto handler, resp::Request req) {
        using H = decltype(handler);
        do_exec(std::move(req),
                ExecHandler(detail::AsResult<H>{std::move(handler)}, get_executor()));
      },
      asio::use_awaitable, std::move(request));
}

asio::awaitable<Result<resp::Reply>> AnyClient::exec_on(std::string primary,
                                                        resp::Request request) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, ResultSignature>(
      [this](auto handler, std::string at, resp::Request req) {
        using H = decltype(handler);
        do_exec_on(std::move(at), std::move(req),
                   ExecHandler(detail::AsResult<H>{std::move(handler)}, get_executor()));
      },
      asio::use_awaitable, std::move(primary), std::move(request));
}

}  // namespace tiercache::redis
