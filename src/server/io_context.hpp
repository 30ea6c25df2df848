#pragma once
// IoContext: an asio::io_context whose pending handlers can be destroyed, without being run,
// before the context itself is. A handler left in one context (a coroutine frame awaiting a Redis
// reply or an upstream answer) may own objects whose destructors reach services of another
// context or of the daemon, so shutdown destroys every context's handlers while all of those
// still exist, and only then the contexts and services (docs/decisions/0010-daemon.md).
// Use: IoContext io; ... stop it, join its threads; io.destroy_pending_handlers(); then the rest.
// Thread-safety: as asio::io_context; destroy_pending_handlers() only while no thread runs it.

#include <boost/asio/io_context.hpp>

namespace tiercache::server {

class IoContext : public boost::asio::io_context {
 public:
  using boost::asio::io_context::io_context;

  // Destroys every handler still queued or parked in the context's services (timers, sockets,
  // Redis connections' queues), as ~io_context would first do. Objects bound to the context may
  // still be destroyed afterwards; handlers posted later are never run (~io_context destroys
  // them). Idempotent: Asio's own destructor runs the same shutdown twice.
  // REQUIRES: no thread runs the context, and none will.
  void destroy_pending_handlers() { shutdown(); }
};

}  // namespace tiercache::server
