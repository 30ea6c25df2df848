// The RESP3 reader: a resumable state machine over one growable buffer.
//
// Shape. A reply is decoded into `nodes_`, its tree flattened in pre-order (reply.hpp). Scalars
// become one node whose payload is an offset into the buffer; an aggregate becomes a node whose
// `span` is filled in when its last element arrives. `stack_` holds the aggregates still open,
// each with the number of elements it awaits, so the parser never needs to look back: when a
// value completes, the innermost frame counts it, and frames that reach zero close in turn. An
// attribute (|N) closes without counting: it belongs to the value after it.
//
// States. Between values the parser is "at a line": it waits for a type byte (checked as soon as
// it arrives) and then for the CRLF that ends the line. The CRLF search resumes at `scan_`, so
// bytes of a long line that arrive in pieces are looked at once. A blob header ($, !, =) moves
// it to "in a payload" until `payload_end_` bytes are buffered; the payload is never scanned,
// only its closing CRLF checked. Nothing else is remembered between calls, which is why input
// may be split at any byte.
//
// Lazy. Integers, booleans and doubles are parsed once, when their line completes; strings are
// not copied or unescaped: a node records where they are. A Reply copies them when kept.
//
// Bounded. Lines, blob lengths, element counts and nesting depth are checked against
// ReaderLimits before anything is stored, and a count announced by the peer is never used to
// reserve memory: nodes are made as their bytes arrive. The one exception is deliberate: an
// announced blob (at most max_bulk) grows the buffer in prepare(), so a 64 MB value lands in
// one allocation and a few large reads instead of a chain of doublings.
//
// Buffer. [begin_, end_) is live: the reply being decoded and what follows it. A returned reply
// stays live until the caller's next call, which is what keeps its views valid. Bytes are moved
// to the front only when the consumed prefix is at least as long as the live bytes (so each move
// is paid for by bytes already consumed), otherwise the buffer doubles: amortized O(1) per byte.
// Node offsets count from begin_, so moving the buffer never touches the nodes.
//
// Errors. Malformed input yields an Errc and latches: the reader keeps returning it until
// reset(). Input never reaches an assert.
#include "tiercache/resp/reader.hpp"

#include "tiercache/resp/error.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace tiercache::resp {
namespace {

constexpr std::size_t kInitialCapacity = 16 << 10;
// A buffer larger than this is released once nothing is live in it (after a big value).
constexpr std::size_t kShrinkAbove = 1 << 20;

// Whether the first n digits at p, with the sign, fit an int64 (n >= 18; leading zeros allowed).
bool within_int64(const char* p, std::size_t n, bool negative) noexcept {
  while (n > 1 && *p == '0') {
    ++p;
    --n;
  }
  constexpr std::string_view kMax = "9223372036854775807";
  constexpr std::string_view kMin = "9223372036854775808";
  if (n != kMax.size()) return n < kMax.size();
  return std::string_view(p, n) <= (negative ? kMin : kMax);
}

bool parse_integer(const char* p, std::size_t n, std::int64_t& out) noexcept {
  bool negative = false;
  if (n > 0 && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
    --n;
  }
  if (n == 0) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto digit = static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]) - '0');
    if (digit > 9) return false;
    v = v * 10 + digit;
    // 18 digits cannot overflow; past them, check (rarely paid: Redis integers are short).
    if (i >= 17 && !within_int64(p, i + 1, negative)) return false;
  }
  out = static_cast<std::int64_t>(negative ? ~v + 1 : v);
  return true;
}

enum class Length : std::uint8_t { ok, nil, malformed, too_large };

// A blob length or an element count: digits, or -1 for nil.
Length parse_length(const char* p, std::size_t n, std::uint64_t& out) noexcept {
  if (n == 2 && p[0] == '-' && p[1] == '1') return Length::nil;
  if (n == 0) return Length::malformed;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto digit = static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]) - '0');
    if (digit > 9) return Length::malformed;
    // 19 digits cannot overflow; past them, check.
    if (i >= 19 && v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return std::all_of(p + i, p + n, [](char c) { return c >= '0' && c <= '9'; })
                 ? Length::too_large
                 : Length::malformed;
    }
    v = v * 10 + digit;
  }
  out = v;
  return Length::ok;
}

bool parse_double(const char* p, std::size_t n, double& out) {
  if (n > 1 && *p == '+' && p[1] != '-' && p[1] != '+') {
    ++p;
    --n;
  }
  if (n == 0) return false;
  const auto [end, ec] = std::from_chars(p, p + n, out);
  if (end != p + n) return false;
  if (ec == std::errc::result_out_of_range) {  // 1e999: well-formed, and strtod says +-inf or 0
    out = std::strtod(std::string(p, n).c_str(), nullptr);
    return true;
  }
  return ec == std::errc{};
}

bool is_big_number(const char* p, std::size_t n) noexcept {
  if (n > 0 && (*p == '-' || *p == '+')) {
    ++p;
    --n;
  }
  return n > 0 && std::all_of(p, p + n, [](char c) { return c >= '0' && c <= '9'; });
}

bool is_type_byte(char c) noexcept {
  switch (c) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '#':
    case '(':
    case '_':
    case '$':
    case '!':
    case '=':
    case '*':
    case '%':
    case '~':
    case '|':
    case '>':
      return true;
    default:
      return false;
  }
}

}  // namespace

Reader::Reader(ReaderLimits limits) : limits_(limits) {}

std::span<char> Reader::prepare(std::size_t min_bytes) {
  release_returned();
  if (begin_ == end_) shift(begin_);
  std::size_t want = std::max<std::size_t>(min_bytes, 1);
  if (in_payload_ && payload_end_ > end_) want = std::max(want, payload_end_ - end_);
  const std::size_t live = end_ - begin_;
  if (live == 0 && capacity_ > kShrinkAbove && want <= kShrinkAbove / 4) {
    buffer_.reset();
    capacity_ = 0;
  }
  if (capacity_ - end_ < want) {
    if (live + want <= capacity_ && begin_ >= live) {
      std::memmove(buffer_.get(), buffer_.get() + begin_, live);
    } else {
      const std::size_t capacity = std::max({capacity_ * 2, live + want, kInitialCapacity});
      auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
      if (live > 0) std::memcpy(bigger.get(), buffer_.get() + begin_, live);
      buffer_ = std::move(bigger);
      capacity_ = capacity;
    }
    shift(begin_);
  }
  return {buffer_.get() + end_, capacity_ - end_};
}

void Reader::commit(std::size_t n) { end_ += std::min(n, capacity_ - end_); }

void Reader::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  const auto space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void Reader::reset() {
  if (capacity_ > kShrinkAbove) {
    buffer_.reset();
    capacity_ = 0;
  }
  begin_ = pos_ = scan_ = end_ = payload_end_ = 0;
  in_payload_ = returned_ = false;
  nodes_.clear();
  stack_.clear();
  failed_ = {};
}

std::size_t Reader::buffered() const noexcept { return end_ - (returned_ ? pos_ : begin_); }

void Reader::release_returned() noexcept {
  if (!returned_) return;
  returned_ = false;
  begin_ = pos_;
  nodes_.clear();
}

void Reader::shift(std::size_t delta) noexcept {
  begin_ -= delta;
  pos_ -= delta;
  scan_ -= std::min(scan_, delta);
  end_ -= delta;
  if (in_payload_) payload_end_ -= delta;
}

error_code Reader::fail(error_code ec) {
  failed_ = ec;
  return ec;
}

Reader::Step Reader::error(Errc e) {
  failed_ = e;
  return Step::more;
}

Result<std::optional<ReplyView>> Reader::next() {
  if (failed_) return failed_;
  release_returned();
  const char* data = buffer_.get();
  for (;;) {
    Step step;
    if (in_payload_) {
      if (end_ < payload_end_) return std::nullopt;
      if (data[payload_end_ - 2] != '\r' || data[payload_end_ - 1] != '\n') {
        return fail(Errc::missing_crlf);
      }
      const Node& blob = nodes_.back();
      if (blob.type == Type::verbatim_string &&
          (blob.length < 4 || data[begin_ + blob.offset + 3] != ':')) {
        return fail(Errc::invalid_verbatim);
      }
      pos_ = scan_ = payload_end_;
      in_payload_ = false;
      step = Step::value;
    } else {
      if (pos_ == end_) return std::nullopt;
      const char type = data[pos_];
      if (!is_type_byte(type)) return fail(Errc::invalid_type_byte);
      scan_ = std::max(scan_, pos_ + 1);
      const char* const last = data + end_;
      const char* p = data + scan_;
      const char* cr = nullptr;
      // Most lines are short: look at a few bytes before paying for a call to memchr.
      for (const char* stop = std::min(last, p + 16); p < stop && *p != '\r';) ++p;
      while (p < last) {
        p = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(last - p)));
        if (p == nullptr) {
          p = last;
          break;
        }
        if (p + 1 == last) break;  // a '\r' at the end: look at it again with the next bytes
        if (p[1] == '\n') {
          cr = p;
          break;
        }
        ++p;
      }
      if (cr == nullptr) {
        scan_ = static_cast<std::size_t>(p - data);
        if (end_ - pos_ - 1 > limits_.max_line + 1) return fail(Errc::limit_exceeded);
        return std::nullopt;
      }
      const auto line = pos_ + 1;
      const auto length = static_cast<std::size_t>(cr - data) - line;
      if (length > limits_.max_line) return fail(Errc::limit_exceeded);
      pos_ = scan_ = line + length + 2;
      step = decode_line(type, line, length);
    }
    if (failed_) return failed_;
    if (step == Step::more) continue;
    if (close_value(step == Step::attribute)) {
      returned_ = true;
      return ReplyView(data + begin_, nodes_);
    }
  }
}

Reader::Step Reader::decode_line(char type, std::size_t line, std::size_t length) {
  const char* p = buffer_.get() + line;
  const auto depth = static_cast<std::uint32_t>(stack_.size());
  const std::uint64_t offset = line - begin_;
  switch (type) {
    case '+':
    case '-':
      nodes_.push_back({.type = type == '+' ? Type::simple_string : Type::simple_error,
                        .depth = depth,
                        .offset = offset,
                        .length = length});
      return Step::value;
    case ':': {
      std::int64_t value = 0;
      if (!parse_integer(p, length, value)) return error(Errc::invalid_integer);
      nodes_.push_back({.type = Type::integer, .depth = depth, .integer = value});
      return Step::value;
    }
    case ',': {
      double value = 0;
      if (!parse_double(p, length, value)) return error(Errc::invalid_double);
      nodes_.push_back({.type = Type::double_,
                        .depth = depth,
                        .offset = offset,
                        .length = length,
                        .integer = std::bit_cast<std::int64_t>(value)});
      return Step::value;
    }
    case '#':
      if (length != 1 || (*p != 't' && *p != 'f')) return error(Errc::invalid_boolean);
      nodes_.push_back({.type = Type::boolean, .depth = depth, .integer = *p == 't' ? 1 : 0});
      return Step::value;
    case '(':
      if (!is_big_number(p, length)) return error(Errc::invalid_integer);
      nodes_.push_back(
          {.type = Type::big_number, .depth = depth, .offset = offset, .length = length});
      return Step::value;
    case '_':
      if (length != 0) return error(Errc::invalid_null);
      nodes_.push_back({.type = Type::null, .depth = depth});
      return Step::value;
    default:
      break;
  }
  std::uint64_t count = 0;
  switch (parse_length(p, length, count)) {
    case Length::ok:
      break;
    case Length::nil:
      if (type != '$' && type != '*') return error(Errc::invalid_length);
      nodes_.push_back({.type = Type::null, .depth = depth});
      return Step::value;
    case Length::malformed:
      return error(Errc::invalid_length);
    case Length::too_large:
      return error(Errc::limit_exceeded);
  }
  if (type == '$' || type == '!' || type == '=') {
    if (count > limits_.max_bulk || count > std::numeric_limits<std::size_t>::max() - pos_ - 2) {
      return error(Errc::limit_exceeded);
    }
    const Type t = type == '$'   ? Type::blob_string
                   : type == '!' ? Type::blob_error
                                 : Type::verbatim_string;
    nodes_.push_back({.type = t, .depth = depth, .offset = pos_ - begin_, .length = count});
    payload_end_ = pos_ + static_cast<std::size_t>(count) + 2;
    in_payload_ = true;
    return Step::more;
  }
  return open_aggregate(type, count);
}

Reader::Step Reader::open_aggregate(char type, std::uint64_t count) {
  const bool pairs = type == '%' || type == '|';
  if (count > (pairs ? limits_.max_elements / 2 : limits_.max_elements) ||
      stack_.size() >= limits_.max_depth) {
    return error(Errc::limit_exceeded);
  }
  const Type t = type == '*'   ? Type::array
                 : type == '%' ? Type::map
                 : type == '~' ? Type::set
                 : type == '|' ? Type::attribute
                               : Type::push;
  const std::uint64_t size = pairs ? count * 2 : count;
  nodes_.push_back({.type = t, .depth = static_cast<std::uint32_t>(stack_.size()), .size = size});
  if (size == 0) return t == Type::attribute ? Step::attribute : Step::value;
  stack_.push_back({nodes_.size() - 1, size});
  return Step::more;
}

// Counts a completed value (or attribute) in the open aggregates; true when the reply is done.
bool Reader::close_value(bool attribute) {
  while (!stack_.empty()) {
    if (attribute) return false;
    Frame& top = stack_.back();
    if (--top.remaining > 0) return false;
    Node& node = nodes_[top.node];
    node.span = nodes_.size() - top.node;
    attribute = node.type == Type::attribute;
    stack_.pop_back();
  }
  return !attribute;
}

}  // namespace tiercache::resp
