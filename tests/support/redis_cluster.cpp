// RedisCluster: start-up is six RedisServers with cluster-enabled (each with its own cluster bus
// port from free_port(), so port + 10000 never has to be free), then `redis-cli --cluster create`,
// then polling every node over hiredis until the cluster has converged: cluster_state:ok,
// every node known everywhere (a replica that has not heard of every master cannot win an
// election) with every replica seen under its master, and every replica's
// master_link_status:up (one that never synced refuses to fail over). Nodes are RedisServers, so
// only pids we forked are ever signalled.

#include "tests/support/redis_cluster.hpp"

#include "tests/support/process.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tiercache::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

std::string scalar(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_NIL:
      return {};
    default:
      return std::string(r->str, r->len);
  }
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    if (!item.empty() && item.back() == '\r') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// "127.0.0.1:30001@40001,hostname" -> 30001
std::uint16_t port_of(const std::string& address) {
  const auto colon = address.rfind(':', address.find('@'));
  return static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
}

std::vector<ClusterNode> parse_nodes(const std::string& text) {
  std::vector<ClusterNode> nodes;
  for (const std::string& line : split(text, '\n')) {
    const auto f = split(line, ' ');
    if (f.size() < 8) continue;
    ClusterNode n;
    n.id = f[0];
    n.port = port_of(f[1]);
    n.master = f[2].find("master") != std::string::npos;
    n.failed = f[2].find("fail") != std::string::npos;
    if (f[3] != "-") n.master_id = f[3];
    for (std::size_t i = 8; i < f.size(); ++i) {
      if (f[i].front() == '[') continue;  // a migration in progress, not ownership
      const auto dash = f[i].find('-');
      const int first = std::stoi(f[i].substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(f[i].substr(dash + 1));
      n.slot_ranges.push_back(first);
      n.slot_ranges.push_back(last);
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

bool owns(const ClusterNode& n, int slot) {
  for (std::size_t i = 0; i + 1 < n.slot_ranges.size(); i += 2) {
    if (slot >= n.slot_ranges[i] && slot <= n.slot_ranges[i + 1]) return true;
  }
  return false;
}

std::string field(const std::string& info, const std::string& name) {
  const auto at = info.find(name + ":");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 1;
  return info.substr(start, info.find_first_of("\r\n", start) - start);
}

void pause_briefly() { std::this_thread::sleep_for(milliseconds(20)); }

}  // namespace

RedisCluster::RedisCluster() : RedisCluster(Options{}) {}

RedisCluster::RedisCluster(Options options) : options_(options) {
  const int total = options_.masters * (1 + options_.replicas_per_master);
  for (int i = 0; i < total; ++i) {
    RedisServer::Options server;
    server.extra = {"cluster-enabled yes",
                    "cluster-config-file nodes.conf",
                    "cluster-port " + std::to_string(free_port()),
                    "cluster-node-timeout " + std::to_string(options_.node_timeout.count()),
                    "cluster-replica-validity-factor 0",
                    "cluster-allow-replica-migration no",
                    "repl-diskless-sync yes",
                    "repl-diskless-sync-delay 0"};
    servers_.push_back(std::make_unique<RedisServer>(std::move(server)));
  }
  create();
  wait_until_ready(std::chrono::seconds(30));
}

RedisCluster::~RedisCluster() = default;

void RedisCluster::create() {
  std::vector<std::string> argv{find_program("redis-cli").string(), "--cluster", "create"};
  for (const auto& s : servers_) argv.push_back("127.0.0.1:" + std::to_string(s->port()));
  argv.insert(argv.end(), {"--cluster-replicas", std::to_string(options_.replicas_per_master),
                           "--cluster-yes"});
  const RunResult r = run_process(argv, std::chrono::seconds(30));
  if (r.exit_code != 0 || r.timed_out) {
    throw std::runtime_error("redis-cli --cluster create failed (" + std::to_string(r.exit_code) +
                             "):\n" + r.output);
  }
}

bool RedisCluster::ready() const {
  for (const auto& s : servers_) {
    if (!s->running()) continue;
    const std::string info = command(s->port(), {"CLUSTER", "INFO"}).str;
    if (field(info, "cluster_state") != "ok") return false;
    if (field(info, "cluster_known_nodes") != std::to_string(servers_.size())) return false;
    const std::string repl = command(s->port(), {"INFO", "replication"}).str;
    if (field(repl, "role") == "slave" && field(repl, "master_link_status") != "up") return false;
    // A replica's role reaches the other nodes by gossip, after its own INFO already says it:
    // wait until this node, too, sees every replica under its master.
    const auto view = parse_nodes(command(s->port(), {"CLUSTER", "NODES"}).str);
    const auto replicas = std::count_if(view.begin(), view.end(),
                                        [](const ClusterNode& n) { return !n.master_id.empty(); });
    if (replicas != options_.masters * options_.replicas_per_master) return false;
  }
  return true;
}

void RedisCluster::wait_until_ready(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready()) {
    if (Clock::now() >= deadline) {
      throw std::runtime_error("Redis Cluster not ready within " + std::to_string(timeout.count()) +
                               " ms:\n" + command(any_live().port(), {"CLUSTER", "NODES"}).str);
    }
    pause_briefly();
  }
}

std::string RedisCluster::url() const {
  std::string url = "redis+cluster://";
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (i != 0) url += ",";
    url += "127.0.0.1:" + std::to_string(servers_[i]->port());
  }
  return url;
}

redis::Config RedisCluster::config() const { return servers_.front()->config(); }

std::vector<std::uint16_t> RedisCluster::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& s : servers_) out.push_back(s->port());
  return out;
}

NodeReply RedisCluster::command(std::uint16_t port, const std::vector<std::string>& args) const {
  const timeval tv{.tv_sec = 2, .tv_usec = 0};
  std::unique_ptr<redisContext, ContextFree> c(redisConnectWithTimeout("127.0.0.1", port, tv));
  if (!c || c->err != 0 || redisSetTimeout(c.get(), tv) != REDIS_OK) {
    throw std::runtime_error("cannot reach cluster node " + std::to_string(port));
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  std::unique_ptr<redisReply, ReplyFree> r(static_cast<redisReply*>(
      redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!r) throw std::runtime_error("no reply from cluster node " + std::to_string(port));
  NodeReply out;
  out.error = r->type == REDIS_REPLY_ERROR;
  if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(scalar(r->element[i]));
  } else {
    out.str = scalar(r.get());
  }
  return out;
}

const RedisServer& RedisCluster::any_live() const {
  for (const auto& s : servers_) {
    if (s->running()) return *s;
  }
  throw std::runtime_error("RedisCluster: no node is running");
}

std::vector<ClusterNode> RedisCluster::nodes() const {
  return parse_nodes(command(any_live().port(), {"CLUSTER", "NODES"}).str);
}

std::vector<ClusterNode> RedisCluster::masters() const {
  std::vector<ClusterNode> out;
  for (auto& n : nodes()) {
    if (n.master && !n.failed && !n.slot_ranges.empty()) out.push_back(std::move(n));
  }
  return out;
}

std::uint16_t RedisCluster::master_of_slot(int slot) const {
  for (const auto& n : masters()) {
    if (owns(n, slot)) return n.port;
  }
  throw std::runtime_error("RedisCluster: no master serves slot " + std::to_string(slot));
}

int RedisCluster::keyslot(const std::string& key) const {
  return std::stoi(command(any_live().port(), {"CLUSTER", "KEYSLOT", key}).str);
}

RedisServer& RedisCluster::server(std::uint16_t port) {
  for (auto& s : servers_) {
    if (s->port() == port) return *s;
  }
  throw std::logic_error("RedisCluster: no node on port " + std::to_string(port));
}

std::string RedisCluster::node_id(std::uint16_t port) const {
  return command(port, {"CLUSTER", "MYID"}).str;
}

pid_t RedisCluster::kill_master(std::uint16_t port) {
  RedisServer& s = server(port);
  const pid_t pid = s.pid();
  s.stop(SIGKILL);
  return pid;
}

milliseconds RedisCluster::wait_for_failover(std::uint16_t port, milliseconds timeout) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  const auto done = [&] {
    for (const auto& s : servers_) {
      if (!s->running()) continue;
      const std::string info = command(s->port(), {"CLUSTER", "INFO"}).str;
      if (field(info, "cluster_state") != "ok") return false;
      for (const auto& n : parse_nodes(command(s->port(), {"CLUSTER", "NODES"}).str)) {
        if (n.port == port && n.master && !n.slot_ranges.empty()) return false;
      }
    }
    return true;
  };
  while (!done()) {
    if (Clock::now() >= deadline) {
      throw std::runtime_error("no failover of node " + std::to_string(port) + " within " +
                               std::to_string(timeout.count()) + " ms:\n" +
                               command(any_live().port(), {"CLUSTER", "NODES"}).str);
    }
    pause_briefly();
  }
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

void RedisCluster::begin_migration(int slot, std::uint16_t to) {
  const std::uint16_t from = master_of_slot(slot);
  const std::string s = std::to_string(slot);
  // IMPORTING first, so the target accepts ASKING requests once the source starts sending them.
  const auto a = command(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(from)});
  const auto b = command(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)});
  if (a.error || b.error) throw std::runtime_error("SETSLOT failed: " + a.str + " " + b.str);
}

int RedisCluster::move_slot_keys(int slot, std::uint16_t to) {
  const std::uint16_t from = master_of_slot(slot);
  int moved = 0;
  for (;;) {
    const auto keys = command(from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
    if (keys.elements.empty()) return moved;
    std::vector<std::string> args{"MIGRATE", "127.0.0.1", std::to_string(to), "", "0",
                                  "5000",    "KEYS"};
    args.insert(args.end(), keys.elements.begin(), keys.elements.end());
    const auto r = command(from, args);
    if (r.error) throw std::runtime_error("MIGRATE failed: " + r.str);
    moved += static_cast<int>(keys.elements.size());
  }
}

void RedisCluster::finish_migration(int slot, std::uint16_t to) {
  const std::string id = node_id(to);
  const std::string s = std::to_string(slot);
  // The target first: once it owns the slot, the source's MOVED points somewhere that answers.
  command(to, {"CLUSTER", "SETSLOT", s, "NODE", id});
  for (const auto& m : masters()) {
    if (m.port == to) continue;
    const auto r = command(m.port, {"CLUSTER", "SETSLOT", s, "NODE", id});
    if (r.error) throw std::runtime_error("SETSLOT NODE failed: " + r.str);
  }
}

void RedisCluster::migrate_slot(int slot, std::uint16_t to) {
  begin_migration(slot, to);
  move_slot_keys(slot, to);
  finish_migration(slot, to);
}

}  // namespace tiercache::test
