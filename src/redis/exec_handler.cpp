#include "tiercache/redis/exec_handler.hpp"

#include <boost/asio/dispatch.hpp>

namespace tiercache::redis {

void ExecHandler::complete(error_code ec, resp::Reply reply) && {
  if (impl_->io != nullptr && impl_->io->get_executor().running_in_this_thread()) {
    std::move (*this)(ec, std::move(reply));
    return;
  }
  const executor_type executor = impl_->executor;
  asio::dispatch(executor, [self = std::move(*this), ec, reply = std::move(reply)]() mutable {
    std::move(self)(ec, std::move(reply));
  });
}

}  // namespace tiercache::redis
