#pragma once
// The RESP2 oracle: hiredis's redisReader (Debian's 0.14) building a plain tree, described in
// tree.hpp's format so it compares with ours. Used by reader_hiredis_test and the diff fuzzer.
// hiredis 0.14 is lenient where we are strict (it reads ":12x" as -1 and never checks the CRLF
// after a bulk) and nests at most 7 levels; callers decide which disagreements are allowed.

#include "tree.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::resp::testing {

struct HiredisNode {
  int type = 0;
  std::string str;
  long long integer = 0;
  std::vector<std::unique_ptr<HiredisNode>> elements;
};

inline void* hiredis_attach(const redisReadTask* task, HiredisNode* node) {
  if (task->parent != nullptr) {
    static_cast<HiredisNode*>(task->parent->obj)->elements.emplace_back(node);
  }
  return node;
}

inline redisReplyObjectFunctions hiredis_functions = {
    [](const redisReadTask* task, char* s, size_t n) -> void* {
      return hiredis_attach(task, new HiredisNode{task->type, std::string(s, n), 0, {}});
    },
    [](const redisReadTask* task, int) -> void* {
      return hiredis_attach(task, new HiredisNode{REDIS_REPLY_ARRAY, {}, 0, {}});
    },
    [](const redisReadTask* task, long long v) -> void* {
      return hiredis_attach(task, new HiredisNode{REDIS_REPLY_INTEGER, {}, v, {}});
    },
    [](const redisReadTask* task) -> void* {
      return hiredis_attach(task, new HiredisNode{REDIS_REPLY_NIL, {}, 0, {}});
    },
    [](void* node) { delete static_cast<HiredisNode*>(node); },
};

class HiredisReader {
 public:
  HiredisReader() : reader_(redisReaderCreateWithFunctions(&hiredis_functions)) {}
  ~HiredisReader() { redisReaderFree(reader_); }
  HiredisReader(const HiredisReader&) = delete;
  HiredisReader& operator=(const HiredisReader&) = delete;

  void feed(std::string_view bytes) { redisReaderFeed(reader_, bytes.data(), bytes.size()); }
  // 1: a reply in `out`; 0: more bytes needed; -1: a protocol error (see error()).
  int next(std::unique_ptr<HiredisNode>& out) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) return -1;
    if (reply == nullptr) return 0;
    out.reset(static_cast<HiredisNode*>(reply));
    return 1;
  }
  std::string error() const { return reader_->errstr; }

 private:
  redisReader* reader_;
};

inline void describe_into(std::string& out, const HiredisNode& n) {
  switch (n.type) {
    case REDIS_REPLY_STATUS:
      out += '+';
      append_escaped(out, n.str);
      break;
    case REDIS_REPLY_ERROR:
      out += '-';
      append_escaped(out, n.str);
      break;
    case REDIS_REPLY_STRING:
      out += '$';
      append_escaped(out, n.str);
      break;
    case REDIS_REPLY_INTEGER:
      out += ':';
      out += std::to_string(n.integer);
      break;
    case REDIS_REPLY_NIL:
      out += '_';
      break;
    case REDIS_REPLY_ARRAY: {
      out += '*';
      out += std::to_string(n.elements.size());
      out += '[';
      for (std::size_t i = 0; i < n.elements.size(); ++i) {
        if (i > 0) out += ' ';
        describe_into(out, *n.elements[i]);
      }
      out += ']';
      break;
    }
    default:
      out += '?';
  }
}

inline std::string describe(const HiredisNode& n) {
  std::string out;
  describe_into(out, n);
  return out;
}

}  // namespace tiercache::resp::testing
