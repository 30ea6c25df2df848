// Differential fuzzing against hiredis's redisReader, the RESP2 oracle: both read the same bytes
// in the same pieces and must return the same replies. They may part only where Debian's hiredis
// 0.14.1 is known to differ, and then only after every earlier reply agreed:
// - it never checks the CRLF after a bulk payload (we fail with missing_crlf) and has no limits
//   (we fail with limit_exceeded);
// - its numbers follow Redis's string2ll, which refuses "+5" and "007" where we read 5 and 7;
// - it reads RESP2 only (a RESP3 type byte is its protocol error) and nests 7 levels at most.
#include "tiercache/resp/reader.hpp"

#include "../tests/resp/hiredis_oracle.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace tiercache::resp;

void require(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "resp_hiredis_diff_fuzz: %s %.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
  }
}

bool hiredis_may_refuse(const std::string& error) {
  for (const char* known : {"nested multi bulk replies with depth > 7", "Bad integer value",
                            "Bad bulk string length", "Bad multi-bulk length"}) {
    if (error.find(known) != std::string::npos) return true;
  }
  const auto at = error.find("got \"");
  return at != std::string::npos && error.size() > at + 6 &&
         error.compare(at + 6, 22, "\" as reply type byte") == 0 &&
         std::string_view(",#(_!=%~|>").find(error[at + 5]) != std::string_view::npos;
}

bool we_may_refuse(tiercache::error_code ec) {
  return ec == Errc::invalid_integer || ec == Errc::invalid_length || ec == Errc::missing_crlf ||
         ec == Errc::limit_exceeded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t max_piece = std::size_t{1} << (data[0] % 12);
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  Reader ours(ReaderLimits{
      .max_depth = 64, .max_elements = 1 << 16, .max_bulk = 1 << 20, .max_line = 4096});
  testing::HiredisReader theirs;
  std::vector<std::string> ours_replies;
  std::vector<std::string> their_replies;
  tiercache::error_code ours_error;
  bool theirs_failed = false;
  for (std::size_t at = 0; at < input.size() && !ours_error && !theirs_failed; at += max_piece) {
    const auto piece = input.substr(at, max_piece);
    ours.feed(piece);
    theirs.feed(piece);
    for (auto r = ours.next(); !ours_error; r = ours.next()) {
      if (r.has_error()) {
        ours_error = r.error();
      } else if (!*r) {
        break;
      } else {
        ours_replies.push_back(testing::describe(**r));
      }
    }
    for (std::unique_ptr<testing::HiredisNode> reply; !theirs_failed;) {
      const int got = theirs.next(reply);
      theirs_failed = got < 0;
      if (got <= 0) break;
      their_replies.push_back(testing::describe(*reply));
    }
  }
  const std::size_t common = std::min(ours_replies.size(), their_replies.size());
  for (std::size_t i = 0; i < common; ++i) {
    require(ours_replies[i] == their_replies[i],
            "different trees:", ours_replies[i] + " vs hiredis " + their_replies[i]);
  }
  const bool ours_ahead = ours_replies.size() > common || (theirs_failed && !ours_error);
  const bool theirs_ahead = their_replies.size() > common || (ours_error && !theirs_failed);
  if (ours_ahead)
    require(theirs_failed && hiredis_may_refuse(theirs.error()),
            "hiredis refused:", theirs.error());
  if (theirs_ahead)
    require(ours_error && we_may_refuse(ours_error), "we refused:", ours_error.message());
  return 0;
}
