#pragma once
// Reader: an incremental RESP3 (and RESP2) decoder that owns its read buffer and never touches a
// socket. Put bytes in (the socket reads straight into prepare()), take complete replies out.
// Use:  auto buf = reader.prepare(4096); n = read(fd, buf.data(), buf.size()); reader.commit(n);
//       while (auto r = reader.next(); r && *r) handle(**r);   // r.has_error(): protocol error
// Input may be split at any byte; parsing resumes where it stopped and never rescans bytes it has
// already decoded. Replies are views into the buffer: no allocation per element.
// Thread-safety: not thread-safe; one reader per connection.

#include "tiercache/base/result.hpp"
#include "tiercache/resp/reply.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::resp {

// Hard limits on what one reply may contain. A reply over a limit is a protocol error
// (Errc::limit_exceeded): the connection is dropped rather than buffering without bound.
struct ReaderLimits {
  // Nesting depth of aggregates. Default: 64 (Redis itself nests a few levels at most).
  std::size_t max_depth = 64;
  // Elements of one aggregate. Default: 2^27 (Redis's own multibulk limit is 2^31 - 1).
  std::uint64_t max_elements = std::uint64_t{1} << 27;
  // Payload bytes of one string or error. Default: 512 MiB, Redis's proto-max-bulk-len.
  std::uint64_t max_bulk = std::uint64_t{512} << 20;
  // Bytes of a line (simple string, error, number, header). Default: 64 KiB.
  std::size_t max_line = 64 << 10;
};

class Reader {
 public:
  explicit Reader(ReaderLimits limits = {});

  // Writable space of at least `min_bytes` at the end of the buffered input. The buffer may move,
  // so views returned earlier die here. When the reply being parsed announced a longer payload,
  // the space grows to fit it, so a large bulk string arrives in few reads.
  std::span<char> prepare(std::size_t min_bytes);
  // Marks `n` bytes of the span from prepare() as received. REQUIRES: n <= that span's size.
  void commit(std::size_t n);
  // Copies `bytes` in: prepare + memcpy + commit. For tests and fuzzers.
  void feed(std::string_view bytes);

  // The next complete reply: a value, std::nullopt when more bytes are needed, or a protocol
  // error (resp::Errc), after which the reader stays failed until reset().
  // The view stays valid until the next call to next(), prepare(), feed() or reset().
  [[nodiscard]] Result<std::optional<ReplyView>> next();

  // Forgets all input and state: for a fresh connection.
  void reset();

  // Bytes received and not yet returned as part of a reply.
  std::size_t buffered() const noexcept;

 private:
  struct Frame;  // an aggregate waiting for elements

  ReaderLimits limits_;
  std::string buffer_;
  std::size_t begin_ = 0;   // first byte of the reply being parsed
  std::size_t parsed_ = 0;  // bytes of that reply already decoded
  std::size_t end_ = 0;     // end of received bytes
  std::vector<Node> nodes_;
  std::vector<Frame> stack_;
  error_code failed_;
};

}  // namespace tiercache::resp
