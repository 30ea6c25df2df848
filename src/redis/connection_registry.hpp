#pragma once
// ConnectionRegistry: the execution-context service that knows every live Connection::Impl of
// its context, so that destroying the io_context also destroys the callers' handlers parked in
// the connections' queues.
//
// Why: a caller's handler (often a coroutine frame) waiting in a Connection's queue may own,
// through its frame, the very Client that owns the Connection: a cycle that only completing the
// request breaks. Asio's own I/O objects hand their pending operations to a service, whose
// shutdown() destroys them when the context goes away; this service does the same for ours.
// Use: a class that parks handlers derives from HandlerHolder; Connection::Impl joins with
// add(shared_from_this()) after construction and leaves with remove(this) in its destructor.
// Thread-safety: add/remove from any thread; shutdown() runs once, when no thread runs the
// context.

#include <boost/asio/execution_context.hpp>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace tiercache::redis::detail {

namespace asio = boost::asio;

// What the registry can ask of a member.
class HandlerHolder {
 public:
  // The execution context is going away (no thread runs it): destroy the parked handlers
  // without calling them.
  virtual void abandon_handlers() noexcept = 0;

 protected:
  ~HandlerHolder() = default;
};

class ConnectionRegistry final : public asio::execution_context::service {
 public:
  using key_type = ConnectionRegistry;
  static inline asio::execution_context::id id;

  explicit ConnectionRegistry(asio::execution_context& context) : service(context) {}

  void add(const std::shared_ptr<HandlerHolder>& holder);
  void remove(const HandlerHolder* holder) noexcept;

 private:
  // Destroys, without calling them, the handlers every registered connection still holds.
  void shutdown() override;

  std::mutex mu_;
  std::unordered_map<const HandlerHolder*, std::weak_ptr<HandlerHolder>> live_;
};

}  // namespace tiercache::redis::detail
