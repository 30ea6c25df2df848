// Fuzzes the RESP3 reader alone. The first two bytes choose how the rest is cut into reads and
// which limits apply; the rest is the input. Checks: the chunked reader agrees with one fed the
// whole input at once (same replies, same error); every reply is a well-formed tree whose
// payloads lie inside the input; size(), at() and iteration agree; Reply copies equal the view.
#include "tiercache/resp/reader.hpp"

#include "../tests/resp/tree.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace tiercache::resp;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "resp_reply_fuzz: %s\n", what);
    std::abort();
  }
}

// Checks the subtree of one element starting at nodes[i] (leading attributes, then the value);
// returns the index after it.
std::size_t check_element(std::span<const Node> nodes, std::size_t i, std::uint32_t depth,
                          std::size_t input_size) {
  for (;;) {
    require(i < nodes.size(), "an element runs past the nodes");
    const Node& n = nodes[i];
    require(n.depth == depth, "a node has the wrong depth");
    require(n.offset + n.length <= input_size, "a payload lies outside the input");
    std::size_t next = i + 1;
    if (is_aggregate(n.type)) {
      for (std::uint64_t e = 0; e < n.size; ++e)
        next = check_element(nodes, next, depth + 1, input_size);
    } else {
      require(n.size == 0, "a scalar has a size");
    }
    require(n.span == next - i, "a span disagrees with the subtree");
    if (n.type != Type::attribute) return next;
    i = next;
  }
}

void check_view(ReplyView v, int budget) {
  std::size_t count = 0;
  for (auto it = v.begin(); it != v.end() && budget > 0; ++it, ++count, --budget) {
    const ReplyView e = *it;
    require(v.at(count) == e, "at() disagrees with iteration");
    require(Reply(e) == e, "a copy of an element differs from it");
    check_view(e, budget / 2);
  }
  if (budget > 0) require(count == v.size(), "size() disagrees with iteration");
}

struct Rng {
  std::uint32_t state;
  std::uint32_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

struct Outcome {
  std::vector<std::string> replies;
  tiercache::error_code error;
};

void drain(Reader& reader, Outcome& out, std::size_t input_size, bool check) {
  while (!out.error) {
    auto r = reader.next();
    if (r.has_error()) {
      out.error = r.error();
      require(reader.next().error() == out.error, "the reader did not stay failed");
      return;
    }
    if (!*r) return;
    const ReplyView v = **r;
    out.replies.push_back(testing::describe(v));
    if (!check) continue;
    require(!v.nodes().empty(), "a reply without nodes");
    require(check_element(v.nodes(), 0, 0, input_size) == v.nodes().size(),
            "nodes left over after the root");
    check_view(v, 256);
    const Reply copy(v);
    require(copy == v && Reply(copy.view()) == copy, "a Reply copy differs from its view");
    require(testing::describe(copy) == out.replies.back(), "a Reply copy describes differently");
    const Reply both[] = {copy, copy};
    require(Reply::array_of(both).at(1) == v, "array_of changed an element");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Rng rng{(0x9e3779b9u ^ (std::uint32_t{data[0]} << 8 | data[1])) | 1u};
  const bool small = (data[1] & 1) != 0;
  const ReaderLimits limits =
      small ? ReaderLimits{.max_depth = 4, .max_elements = 8, .max_bulk = 64, .max_line = 32}
            : ReaderLimits{
                  .max_depth = 64, .max_elements = 1 << 16, .max_bulk = 1 << 20, .max_line = 4096};
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  Reader whole(limits);
  Outcome expected;
  whole.feed(input);
  drain(whole, expected, input.size(), true);

  const std::uint32_t max_piece = 1u << (data[0] % 8);
  Reader chunked(limits);
  Outcome got;
  for (std::size_t at = 0; at < input.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng.next() % max_piece, input.size() - at);
    auto space = chunked.prepare(1 + rng.next() % 64);
    const std::size_t take = std::min(n, space.size());
    std::memcpy(space.data(), input.data() + at, take);
    chunked.commit(take);
    at += take;
    drain(chunked, got, input.size(), false);
  }
  require(got.replies == expected.replies, "chunked input decodes differently");
  require(got.error == expected.error, "chunked input fails differently");

  chunked.reset();
  chunked.feed("+OK\r\n");
  auto after = chunked.next();
  require(after && *after && (*after)->str() == "OK", "reset() did not recover the reader");
  return 0;
}
