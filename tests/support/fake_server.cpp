#include "tests/support/fake_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace tiercache::test {
namespace {

constexpr std::chrono::seconds bound_timeout{5};

// Writes all of `bytes`; false if the peer is gone or does not read for a second.
bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads "<digits>\r\n" at `pos` (after a type byte); npos-safe: false when incomplete.
bool read_length(std::string_view bytes, std::size_t& pos, long& value) {
  const std::size_t end = bytes.find("\r\n", pos);
  if (end == std::string_view::npos) return false;
  const auto [ptr, ec] = std::from_chars(bytes.data() + pos, bytes.data() + end, value);
  if (ec != std::errc() || ptr != bytes.data() + end) return false;
  pos = end + 2;
  return true;
}

}  // namespace

FakeServer::FakeServer(Handler handler) : FakeServer(Options{.handler = std::move(handler)}) {}

FakeServer::FakeServer(Options options) : options_(std::move(options)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("FakeServer: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::listen(listen_fd_, 128) != 0 || ::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    const std::string why = std::generic_category().message(errno);
    ::close(listen_fd_);
    throw std::runtime_error("FakeServer: cannot listen on 127.0.0.1: " + why);
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

FakeServer::~FakeServer() {
  stopping_ = true;
  const char byte = 's';
  [[maybe_unused]] const ssize_t n = ::write(wake_fds_[1], &byte, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

redis::Config FakeServer::config() const {
  redis::Config config;
  config.host = "127.0.0.1";
  config.port = port_;
  return config;
}

bool FakeServer::wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return accepted_.load() >= n; });
}

std::string FakeServer::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

bool FakeServer::wait_for_received(std::string_view needle,
                                   std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout,
                           [&] { return received_.find(needle) != std::string::npos; });
}

void FakeServer::close_all() {
  const std::uint64_t request = ++close_requests_;
  const char byte = 'c';
  [[maybe_unused]] const ssize_t n = ::write(wake_fds_[1], &byte, 1);
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, bound_timeout, [&] { return close_handled_ >= request; });
}

void FakeServer::run() {
  std::vector<int> connections;
  const auto notify = [this] {
    { std::lock_guard lock(mu_); }
    changed_.notify_all();
  };
  const auto close_connection = [&](std::size_t index) {
    ::close(connections[index]);
    connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(index));
    --open_;
    notify();
  };
  std::uint64_t closes_done = 0;
  std::vector<char> buffer(std::size_t{64} * 1024);

  while (!stopping_) {
    std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const int fd : connections) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "FakeServer: poll failed: " << std::generic_category().message(errno);
      break;
    }
    if (fds[0].revents != 0) {
      char drain[64];
      while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
      }
    }
    if (stopping_) break;
    if (const std::uint64_t requested = close_requests_.load(); requested != closes_done) {
      while (!connections.empty()) close_connection(connections.size() - 1);
      closes_done = requested;
      {
        std::lock_guard lock(mu_);
        close_handled_ = requested;
      }
      changed_.notify_all();
      continue;  // the poll set named the closed descriptors
    }

    for (std::size_t k = fds.size(); k-- > 2;) {
      if (fds[k].revents == 0) continue;
      const std::size_t index = k - 2;
      const int fd = connections[index];
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close_connection(index);
        continue;
      }
      const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
      {
        std::lock_guard lock(mu_);
        received_.append(chunk);
      }
      changed_.notify_all();
      if (options_.never_answer || !options_.handler) continue;
      std::string reply;
      try {
        reply = options_.handler(chunk);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "FakeServer: the handler threw: " << e.what();
        close_connection(index);
        continue;
      }
      if (!send_all(fd, reply) || options_.close_after_reply) close_connection(index);
    }

    if ((fds[1].revents & POLLIN) != 0) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const timeval send_timeout{.tv_sec = 1, .tv_usec = 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
      connections.push_back(fd);
      ++accepted_;
      ++open_;
      notify();
      if (!send_all(fd, options_.greeting) || options_.close_on_accept) {
        close_connection(connections.size() - 1);
      }
    }
  }
  while (!connections.empty()) close_connection(connections.size() - 1);
}

std::vector<std::vector<std::string>> FakeServer::parse_commands(std::string_view bytes) {
  std::vector<std::vector<std::string>> commands;
  std::size_t pos = 0;
  while (pos < bytes.size() && bytes[pos] == '*') {
    std::size_t p = pos + 1;
    long count = 0;
    if (!read_length(bytes, p, count) || count < 0) break;
    std::vector<std::string> command;
    bool complete = true;
    for (long i = 0; i < count; ++i) {
      long length = 0;
      if (p >= bytes.size() || bytes[p] != '$' || !read_length(bytes, ++p, length) || length < 0 ||
          bytes.size() - p < static_cast<std::size_t>(length) + 2) {
        complete = false;
        break;
      }
      command.emplace_back(bytes.substr(p, static_cast<std::size_t>(length)));
      p += static_cast<std::size_t>(length) + 2;
    }
    if (!complete) break;
    commands.push_back(std::move(command));
    pos = p;
  }
  return commands;
}

std::string FakeServer::reply_each(std::string_view bytes, std::string_view reply) {
  std::string out;
  for (const auto& command : parse_commands(bytes)) {
    std::string name = command.empty() ? "" : command.front();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    out += name == "HELLO" ? hello_reply() : std::string(reply);
  }
  return out;
}

std::string FakeServer::hello_reply() {
  return "%7\r\n"
         "$6\r\nserver\r\n$5\r\nredis\r\n"
         "$7\r\nversion\r\n$6\r\n7.0.15\r\n"
         "$5\r\nproto\r\n:3\r\n"
         "$2\r\nid\r\n:1\r\n"
         "$4\r\nmode\r\n$10\r\nstandalone\r\n"
         "$4\r\nrole\r\n$6\r\nmaster\r\n"
         "$7\r\nmodules\r\n*0\r\n";
}

}  // namespace tiercache::test
