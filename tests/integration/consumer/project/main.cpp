// A user's program: found tiercache with find_package, links tiercache::tiercache, and uses it.
#include <cstdio>
#include <string_view>
#include <tiercache/redis/url.hpp>
#include <tiercache/resp/reader.hpp>
#include <tiercache/resp/request.hpp>

int main() {
  tiercache::resp::Request request;
  request.push("SET", "greeting", "hello");

  tiercache::resp::Reader reader;
  reader.feed("+OK\r\n");
  auto reply = reader.next();
  if (!reply || !*reply || (*reply)->str() != "OK") return 1;

  auto config = tiercache::redis::parse_url("redis://localhost:6380/2");
  if (!config || config->port != 6380 || config->database != 2) return 1;

  std::printf("encoded %zu bytes; decoded %s; parsed %s\n", request.payload().size(),
              std::string(reply.value()->str()).c_str(), config->describe().c_str());
  return 0;
}
