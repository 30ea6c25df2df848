#pragma once
// Reader: an incremental RESP3 (and RESP2) decoder that owns its read buffer and never touches a
// socket. Put bytes in (the socket reads straight into prepare()), take complete replies out.
// Use:  auto buf = reader.prepare(4096); n = read(fd, buf.data(), buf.size()); reader.commit(n);
//       while (auto r = reader.next(); r && *r) handle(**r);   // r.has_error(): protocol error
// Input may be split at any byte; parsing resumes where it stopped and never rescans bytes it has
// already decoded. Replies are views into the buffer: no allocation per element.
// Thread-safety: not thread-safe; one reader per connection.
//
// Every RESP3 type is read, RESP2's nil bulk ($-1) and nil array (*-1) as null. Streamed strings
// and aggregates ($?, *?) are not supported (Redis never sends them): they fail with
// Errc::invalid_length. Lines (+, -, :, ...) end at the first CRLF, as in hiredis and Redis.

#include "tiercache/base/result.hpp"
#include "tiercache/resp/error.hpp"
#include "tiercache/resp/reply.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace tiercache::resp {

// Hard limits on what one reply may contain. A reply over a limit is a protocol error
// (Errc::limit_exceeded): the connection is dropped rather than buffering without bound.
struct ReaderLimits {
  // Nesting depth of aggregates: 1 allows a flat array, no more. Default: 64 (Redis itself
  // nests a few levels at most).
  std::size_t max_depth = 64;
  // Elements of one aggregate (a map's keys and values both count). Default: 2^27 (Redis's own
  // multibulk limit is 2^31 - 1). Nodes are only made as their bytes arrive, never up front.
  std::uint64_t max_elements = std::uint64_t{1} << 27;
  // Payload bytes of one string or error. Default: 512 MiB, Redis's proto-max-bulk-len. The
  // buffer grows to fit an announced payload (see prepare()), so this also bounds its size.
  std::uint64_t max_bulk = std::uint64_t{512} << 20;
  // Bytes of a line (simple string, error, number, header), CRLF excluded. Default: 64 KiB.
  std::size_t max_line = 64 << 10;
};

class Reader {
 public:
  explicit Reader(ReaderLimits limits = {});
  Reader(Reader&&) noexcept = default;
  Reader& operator=(Reader&&) noexcept = default;

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
  // The error the reader failed with, or a default error_code while it is healthy.
  error_code error() const noexcept { return failed_; }

 private:
  struct Frame {
    std::size_t node;         // index of the open aggregate in nodes_
    std::uint64_t remaining;  // elements still to come (attributes do not count)
  };
  // What a decoded line leaves: more to read, a value, or an attribute (which counts for nothing).
  enum class Step : std::uint8_t { more, value, attribute };

  Step decode_line(char type, std::size_t line, std::size_t length);
  Step open_aggregate(char type, std::uint64_t count);
  bool close_value(bool attribute);
  void release_returned() noexcept;
  void shift(std::size_t delta) noexcept;
  error_code fail(error_code ec);
  Step error(Errc e);  // latches e; the caller sees failed_

  ReaderLimits limits_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  // Absolute positions in buffer_: begin_ <= pos_ <= end_ <= capacity_.
  std::size_t begin_ = 0;        // first byte of the reply being parsed (or the one handed out)
  std::size_t pos_ = 0;          // first byte not yet decoded
  std::size_t scan_ = 0;         // where the search for a line's CRLF resumes
  std::size_t end_ = 0;          // end of received bytes
  std::size_t payload_end_ = 0;  // awaiting a blob's payload: its end, CRLF included
  bool in_payload_ = false;
  bool returned_ = false;     // begin_ and nodes_ still describe the reply next() handed out
  std::vector<Node> nodes_;   // the reply so far, reused across replies
  std::vector<Frame> stack_;  // open aggregates, innermost last
  error_code failed_;
};

}  // namespace tiercache::resp
