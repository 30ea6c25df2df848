#pragma once
// ExecHandler: the completion handler of one Redis request, void(error_code, resp::Reply), with
// its type erased in one allocation from Asio's per-thread recycling cache. AnyClient::async_exec
// wraps the caller's handler in one and every client passes it down to the link that answers.
// It keeps what Asio associates with the caller's handler (executor, cancellation slot) and
// holds outstanding work on that executor until it completes, as an operation in progress must.
// Use: ExecHandler h(std::move(handler), fallback_executor);  // fallback: no associated executor
//      std::move(h).complete(ec, std::move(reply));  // on the handler's executor
//      std::move(h)(ec, std::move(reply));           // here: the caller is already on it
// Thread-safety: a move-only value; complete() may be called from any thread.
//
// Why not asio::any_completion_handler: each completion through it wraps the caller's
// any_io_executor in an any_completion_executor (a heap allocation: it does not fit the small
// buffer) and dispatches through a work-tracking wrapper, ~17% of the client's instructions per
// GET (bench/README.md, client_bench). ExecHandler completes in place when the caller's executor
// is an io_context running on this thread, which is what asio::dispatch would do, minus the
// wrapping.

#include "tiercache/base/result.hpp"
#include "tiercache/resp/reply.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace tiercache::redis {

namespace asio = boost::asio;

class ExecHandler {
 public:
  using executor_type = asio::any_io_executor;
  using cancellation_slot_type = asio::cancellation_slot;

  ExecHandler() noexcept = default;
  // Wraps `handler`; its associated executor, or `fallback` when it has none, is where it runs.
  template <class Handler>
  requires(!std::same_as<std::decay_t<Handler>, ExecHandler> &&
           std::invocable<std::decay_t<Handler>, error_code, resp::Reply>)
      ExecHandler(Handler&& handler, const executor_type& fallback) {
    using H = std::decay_t<Handler>;
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto executor = asio::get_associated_executor(handler, fallback);
    if constexpr (std::is_convertible_v<decltype(executor), executor_type>) {
      impl_ = Holder<H>::make(H(std::forward<Handler>(handler)), executor, slot);
    } else {
      // An executor that is not an I/O executor (a composed operation over an
      // any_completion_handler has an any_completion_executor): the handler is dispatched to it
      // from the fallback's context.
      impl_ = Holder<Redispatch<H>>::make(Redispatch<H>(std::forward<Handler>(handler)), fallback,
                                          slot);
    }
  }
  ExecHandler(ExecHandler&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
  ExecHandler& operator=(ExecHandler&& other) noexcept {
    ExecHandler(std::move(other)).swap(*this);
    return *this;
  }
  ExecHandler(const ExecHandler&) = delete;
  ExecHandler& operator=(const ExecHandler&) = delete;
  // Destroys the handler without calling it, and releases its work.
  ~ExecHandler() {
    if (impl_ != nullptr) impl_->destroy(impl_);
  }
  void swap(ExecHandler& other) noexcept { std::swap(impl_, other.impl_); }

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  // The handler's executor (work-tracked), for wrappers that must run where it runs.
  // REQUIRES: *this.
  executor_type get_executor() const noexcept { return impl_->executor; }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return impl_ != nullptr ? impl_->slot : cancellation_slot_type();
  }

  // Calls the handler here and now; *this is empty after. REQUIRES: *this, and the caller runs
  // on get_executor() (a wrapper called by Asio on the handler's behalf does).
  void operator()(error_code ec, resp::Reply reply) && {
    Impl* impl = std::exchange(impl_, nullptr);
    impl->call(impl, ec, std::move(reply));
  }
  // Calls the handler on its executor: at once when that is an io_context whose run() is on
  // this thread's stack (as asio::dispatch would), else through asio::dispatch. Never call it
  // inside the initiating function: post first (a handler must not run before it returns).
  // REQUIRES: *this.
  void complete(error_code ec, resp::Reply reply) &&;

 private:
  using TrackedIoExecutor = decltype(asio::prefer(std::declval<asio::io_context::executor_type>(),
                                                  asio::execution::outstanding_work.tracked));

  struct Impl {
    void (*call)(Impl*, error_code, resp::Reply&&);
    void (*destroy)(Impl*);
    executor_type executor;  // with outstanding work
    cancellation_slot_type slot;
    asio::io_context* io = nullptr;  // when executor is an io_context's: for complete()'s check
  };

  template <class Handler>
  struct Holder final : Impl {
    using Allocator = asio::recycling_allocator<Holder>;
    Handler handler;

    Holder(Handler&& h, executor_type ex, cancellation_slot_type cancel_slot)
        : Impl{&call_handler, &destroy_handler, std::move(ex), cancel_slot}, handler(std::move(h)) {
      if (const auto* on_io = executor.template target<TrackedIoExecutor>()) {
        io = &on_io->context();
      }
    }

    static Impl* make(Handler&& h, const executor_type& ex, cancellation_slot_type cancel_slot) {
      executor_type tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
      Allocator alloc;
      Holder* p = alloc.allocate(1);
      try {
        return new (p) Holder(std::move(h), std::move(tracked), cancel_slot);
      } catch (...) {
        alloc.deallocate(p, 1);
        throw;
      }
    }
    static void release(Holder* p) noexcept {
      p->~Holder();
      Allocator().deallocate(p, 1);
    }
    static void destroy_handler(Impl* impl) { release(static_cast<Holder*>(impl)); }
    // The memory goes back before the upcall, so the handler can start the next request with it;
    // the work stays until the handler returns.
    static void call_handler(Impl* impl, error_code ec, resp::Reply&& reply) {
      auto* self = static_cast<Holder*>(impl);
      Handler handler(std::move(self->handler));
      executor_type work(std::move(self->executor));
      release(self);
      std::move(handler)(ec, std::move(reply));
    }
  };

  // A handler whose executor is not an I/O executor, with work held on it: called, it dispatches
  // the handler there.
  template <class Handler>
  struct Redispatch {
    using Work = decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                                       asio::execution::outstanding_work.tracked));
    Handler handler;
    Work work;

    explicit Redispatch(Handler&& h)
        : handler(std::move(h)),
          work(asio::prefer(asio::get_associated_executor(handler),
                            asio::execution::outstanding_work.tracked)) {}
    void operator()(error_code ec, resp::Reply reply) {
      Work ex(std::move(work));
      asio::dispatch(ex, asio::append(std::move(handler), ec, std::move(reply)));
    }
  };

  Impl* impl_ = nullptr;
};

}  // namespace tiercache::redis
