// Client: Config::connections shared, pipelined links, plus dedicated links for exclusive
// requests (blocking reads, WATCH, CLIENT TRACKING...), which would stall or change the state of
// a shared pipeline. A dedicated link carries one exclusive request at a time; afterwards it
// goes back to a small idle pool, unless the request failed (a timed-out BLPOP still blocks
// the server side of its link, so that link is closed rather than reused).

#include "tiercache/redis/client.hpp"

#include "tiercache/redis/error.hpp"

#include <atomic>
#include <limits>
#include <mutex>
#include <unordered_map>

namespace tiercache::redis {
namespace {

constexpr std::size_t kMaxIdleDedicated = 4;

}  // namespace

class Client::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(executor_type executor, Config config)
      : executor_(std::move(executor)), config_(std::move(config)) {
    const std::size_t n = std::max<std::size_t>(config_.connections, 1);
    shared_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      shared_.push_back(std::make_unique<Connection>(executor_, config_, i));
    }
    next_index_ = n;
  }

  void exec(resp::Request request, ExecHandler handler) {
    if (request.flags().exclusive) return exec_exclusive(std::move(request), std::move(handler));
    pick().async_exec(std::move(request), std::move(handler));
  }

  void start() {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
    for (auto& c : shared_) c->start();
  }

  void stop() {
    std::unordered_map<Connection*, std::unique_ptr<Connection>> busy;
    std::vector<std::unique_ptr<Connection>> idle;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      busy.swap(busy_);
      idle.swap(idle_);
    }
    for (auto& c : shared_) c->stop();
    for (auto& [raw, c] : busy) c->stop();
    // Destroying a Connection stops it; its requests complete with Errc::stopped.
  }

  void set_push_handler(PushHandler handler) {
    std::lock_guard lock(mu_);
    push_ = std::move(handler);
    for (auto& c : shared_) c->set_push_handler(push_);
  }

  void set_link_handler(LinkHandler handler) {
    std::lock_guard lock(mu_);
    link_ = std::move(handler);
    for (auto& c : shared_) c->set_link_handler(link_);
  }

  std::vector<ConnectionStats> stats() const {
    std::vector<ConnectionStats> out;
    out.reserve(shared_.size());
    for (const auto& c : shared_) out.push_back(c->stats());
    return out;
  }

  executor_type executor_;
  const Config config_;

 private:
  // Completes an exclusive request: the link goes back to the pool (or away), then the caller.
  struct ExclusiveDone {
    using executor_type = ExecHandler::executor_type;
    using cancellation_slot_type = ExecHandler::cancellation_slot_type;

    std::shared_ptr<Impl> client;
    Connection* link;
    ExecHandler handler;

    executor_type get_executor() const noexcept { return handler.get_executor(); }
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return handler.get_cancellation_slot();
    }
    void operator()(error_code ec, resp::Reply reply) {
      client->release(link, !ec);
      std::move(handler)(ec, std::move(reply));
    }
  };

  Connection& pick() {
    if (shared_.size() == 1) return *shared_.front();
    // Least loaded, scanning from a rotating start so ties spread out.
    const std::size_t start = rotate_.fetch_add(1, std::memory_order_relaxed);
    std::size_t best = start % shared_.size();
    std::size_t best_load = std::numeric_limits<std::size_t>::max();
    for (std::size_t k = 0; k < shared_.size(); ++k) {
      const std::size_t i = (start + k) % shared_.size();
      const std::size_t load = shared_[i]->stats().pending;
      if (load < best_load) {
        best = i;
        best_load = load;
      }
    }
    return *shared_[best];
  }

  void exec_exclusive(resp::Request request, ExecHandler handler) {
    Connection* link = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!stopped_) {
        std::unique_ptr<Connection> owned;
        if (!idle_.empty()) {
          owned = std::move(idle_.back());
          idle_.pop_back();
        } else {
          owned = std::make_unique<Connection>(executor_, config_, next_index_++);
          if (push_) owned->set_push_handler(push_);
          if (link_) owned->set_link_handler(link_);
          if (started_) owned->start();
        }
        link = owned.get();
        busy_.emplace(link, std::move(owned));
      }
    }
    if (link == nullptr) {
      // Stopped: a shared link answers with Errc::stopped, through a post.
      return shared_.front()->async_exec(std::move(request), std::move(handler));
    }
    link->async_exec(std::move(request),
                     ExclusiveDone{shared_from_this(), link, std::move(handler)});
  }

  void release(Connection* link, bool reusable) {
    std::unique_ptr<Connection> doomed;
    std::lock_guard lock(mu_);
    auto it = busy_.find(link);
    if (it == busy_.end()) return;  // stopped meanwhile
    if (reusable && !stopped_ && idle_.size() < kMaxIdleDedicated) {
      idle_.push_back(std::move(it->second));
    } else {
      doomed = std::move(it->second);
    }
    busy_.erase(it);
  }

  std::vector<std::unique_ptr<Connection>> shared_;  // fixed after construction
  std::atomic<std::size_t> rotate_{0};

  mutable std::mutex mu_;
  bool started_ = false;  // guarded by mu_
  bool stopped_ = false;  // guarded by mu_
  std::size_t next_index_ = 0;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> busy_;
  PushHandler push_;
  LinkHandler link_;
};

Client::Client(executor_type executor, Config config)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config))) {}

Client::~Client() { impl_->stop(); }

Client::executor_type Client::get_executor() { return impl_->executor_; }
void Client::start() { impl_->start(); }
void Client::stop() { impl_->stop(); }
void Client::set_push_handler(PushHandler handler) { impl_->set_push_handler(std::move(handler)); }
void Client::set_link_handler(LinkHandler handler) { impl_->set_link_handler(std::move(handler)); }
const Config& Client::config() const noexcept { return impl_->config_; }
std::vector<ConnectionStats> Client::stats() const { return impl_->stats(); }

void Client::do_exec(resp::Request request, ExecHandler handler) {
  impl_->exec(std::move(request), std::move(handler));
}

}  // namespace tiercache::redis
