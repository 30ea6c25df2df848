// RedisServer: a redis-server child process per test. Start-up is: make a temp dir, write
// redis.conf, fork/exec redis-server, poll until it logs that it is ready and answers PING (TLS:
// logs that it is ready; unix socket: answers PING). Ports come from free_port(), so another
// process may take one between our probe and redis-server's bind; the server then exits with
// "Address already in use" and we try again with a new port (or, on restart, the same port after a
// short wait). Processes are only ever signalled by the pid we forked, and reaped by us, so the pid
// cannot be reused while we hold it.

#include "tests/support/redis_server.hpp"

#include "tests/support/process.hpp"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace tiercache::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds start_timeout{5000};
constexpr int start_attempts = 5;

fs::path make_temp_dir(const char* prefix) {
  // Unix socket paths must fit in 108 bytes: a long TMPDIR falls back to /tmp.
  const char* tmpdir = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string base =
      tmpdir != nullptr && *tmpdir != '\0' && std::strlen(tmpdir) < 60 ? tmpdir : "/tmp";
  std::string pattern = base + "/" + prefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + pattern +
                             ") failed: " + std::generic_category().message(errno));
  }
  return pattern;
}

std::string read_file(const fs::path& path, std::uintmax_t offset = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::uintmax_t file_size_or_zero(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// A redis.conf value in double quotes (sdssplitargs syntax), so spaces and quotes survive.
std::string quote(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string percent_encode(const std::string& text, bool keep_slash) {
  static constexpr char hex_digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                            (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += hex_digits[u >> 4];
      out += hex_digits[u & 0xF];
    }
  }
  return out;
}

timeval to_timeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// True if a server answers PING at all (PONG, or NOAUTH when a password is set; not LOADING).
bool answers_ping(const fs::path& socket, std::uint16_t port) {
  const timeval tv = to_timeval(milliseconds(200));
  redisContext* c = socket.empty() ? redisConnectWithTimeout("127.0.0.1", port, tv)
                                   : redisConnectUnixWithTimeout(socket.c_str(), tv);
  bool ok = false;
  if (c != nullptr && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply != nullptr &&
         (reply->type == REDIS_REPLY_STATUS ||
          (reply->type == REDIS_REPLY_ERROR && std::strncmp(reply->str, "LOADING", 7) != 0));
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (c != nullptr) redisFree(c);
  return ok;
}

// True if 127.0.0.1:port can be bound as redis-server binds it (SO_REUSEADDR).
bool port_bindable(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

void sleep_a_little(int attempt) {
  std::this_thread::sleep_for(milliseconds(std::min(2 + attempt * 3, 25)));
}

// The per-process certificate set. Generated once; the directory is removed at exit by the
// process that made it (not by forked children).
class TlsMaterial {
 public:
  TlsMaterial() : owner_(getpid()), dir_(make_temp_dir("tiercache-tls-")) {
    try {
      generate();
    } catch (...) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
      throw;
    }
  }
  ~TlsMaterial() {
    if (getpid() != owner_) return;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;

  const RedisServer::TlsFiles& files() const { return files_; }

 private:
  void openssl(std::vector<std::string> args) const {
    args.insert(args.begin(), openssl_.string());
    const RunResult r = run_process(args, milliseconds(20'000));
    if (r.exit_code != 0 || r.timed_out) {
      std::string command;
      for (const auto& a : args) command += a + " ";
      throw std::runtime_error("openssl failed (" + std::to_string(r.exit_code) + "): " + command +
                               "\n" + r.output);
    }
  }

  void make_ca(const std::string& name, const std::string& cn) const {
    openssl({"req",      "-x509",
             "-new",     "-nodes",
             "-newkey",  "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-keyout",  path(name + ".key"),
             "-out",     path(name + ".crt"),
             "-days",    "3",
             "-subj",    "/CN=" + cn,
             "-addext",  "basicConstraints=critical,CA:TRUE",
             "-addext",  "keyUsage=critical,keyCertSign,cRLSign"});
  }

  void make_leaf(const std::string& name, const std::string& ca, int serial) const {
    openssl({"req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-keyout", path(name + ".key"), "-out", path(name + ".csr"), "-subj",
             "/CN=localhost"});
    openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".crt"), "-CAkey",
             path(ca + ".key"), "-set_serial", std::to_string(serial), "-days", "3", "-out",
             path(name + ".crt"), "-extfile", path("leaf.ext")});
  }

  void generate() {
    openssl_ = find_program("openssl");
    {
      std::ofstream ext(dir_ / "leaf.ext");
      ext << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
             "basicConstraints=CA:FALSE\n"
             "keyUsage=critical,digitalSignature,keyEncipherment\n"
             "extendedKeyUsage=serverAuth,clientAuth\n";
    }
    make_ca("ca", "tiercache test CA");
    make_leaf("server", "ca", 2);
    make_leaf("client", "ca", 3);
    make_ca("untrusted-ca", "tiercache untrusted test CA");
    make_leaf("untrusted", "untrusted-ca", 2);
    files_ = {.ca_cert = dir_ / "ca.crt",
              .server_cert = dir_ / "server.crt",
              .server_key = dir_ / "server.key",
              .client_cert = dir_ / "client.crt",
              .client_key = dir_ / "client.key",
              .untrusted_ca_cert = dir_ / "untrusted-ca.crt",
              .untrusted_cert = dir_ / "untrusted.crt",
              .untrusted_key = dir_ / "untrusted.key"};
  }

  std::string path(const std::string& file) const { return (dir_ / file).string(); }

  pid_t owner_;
  fs::path dir_;
  fs::path openssl_;
  RedisServer::TlsFiles files_;
};

const fs::path& redis_server_program() {
  static const fs::path program = find_program("redis-server");
  return program;
}

const fs::path& redis_cli_program() {
  static const fs::path program = find_program("redis-cli");
  return program;
}

bool on_main_thread() { return gettid() == getpid(); }

}  // namespace

const RedisServer::TlsFiles& RedisServer::test_tls_files() {
  static const TlsMaterial material;
  return material.files();
}

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
  if (tls()) tls_files_ = test_tls_files();
  dir_ = make_temp_dir("tiercache-redis-");
  if (options_.unix_socket) socket_path_ = dir_ / "redis.sock";
  try {
    start(/*keep_port=*/false);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

RedisServer::~RedisServer() {
  stop(SIGKILL);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void RedisServer::write_config() const {
  std::ofstream conf(dir_ / "redis.conf", std::ios::trunc);
  conf << "bind 127.0.0.1\n"
       << "protected-mode no\n"
       << "daemonize no\n"
       << "save \"\"\n"
       << "appendonly no\n"
       << "enable-debug-command yes\n"
       << "dir " << quote(dir_.string()) << "\n"
       << "logfile " << quote((dir_ / "redis.log").string()) << "\n";
  if (options_.unix_socket) {
    conf << "port 0\n"
         << "unixsocket " << quote(socket_path_.string()) << "\n"
         << "unixsocketperm 700\n";
  } else if (tls()) {
    conf << "port 0\n"
         << "tls-port " << port_ << "\n"
         << "tls-cert-file " << quote(tls_files_.server_cert.string()) << "\n"
         << "tls-key-file " << quote(tls_files_.server_key.string()) << "\n"
         << "tls-ca-cert-file " << quote(tls_files_.ca_cert.string()) << "\n"
         << "tls-auth-clients " << (options_.tls_client_auth ? "yes" : "no") << "\n";
  } else {
    conf << "port " << port_ << "\n";
  }
  if (!options_.requirepass.empty()) conf << "requirepass " << quote(options_.requirepass) << "\n";
  for (const AclUser& user : options_.users) {
    conf << "user " << quote(user.name) << " on " << quote(">" + user.password) << " " << user.rules
         << "\n";
  }
  for (const std::string& line : options_.extra) conf << line << "\n";
  if (!conf) throw std::runtime_error("cannot write " + (dir_ / "redis.conf").string());
}

void RedisServer::spawn() {
  log_offset_ = file_size_or_zero(dir_ / "redis.log");
  stderr_offset_ = file_size_or_zero(dir_ / "stderr.log");
  pid_ = spawn_process({redis_server_program().string(), (dir_ / "redis.conf").string()},
                       dir_ / "stderr.log", on_main_thread());
  paused_ = false;
}

RedisServer::StartResult RedisServer::wait_until_ready(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (int attempt = 0;; ++attempt) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (log_since_spawn().find("Address already in use") != std::string::npos) {
        return StartResult::address_in_use;
      }
      throw std::runtime_error("redis-server exited during start-up (status " +
                               std::to_string(status) + "). Log:\n" + log());
    }
    // Ready when our own server has logged so: a PING alone could be answered by another
    // test's server that holds the port ours failed to bind (ours then exits with "Address
    // already in use" a moment later; two clusters built on one node this way). A TLS server
    // listens before it logs that it is ready; hiredis 0.14 cannot speak TLS.
    // A unix socket is in our own temp dir: only our server can answer there (and it logs
    // readiness in other words).
    const auto logged_ready = [&] {
      return log_since_spawn().find("Ready to accept connections") != std::string::npos;
    };
    const bool up = options_.unix_socket ? answers_ping(socket_path_, port_)
                    : tls()              ? logged_ready()
                                         : logged_ready() && answers_ping(socket_path_, port_);
    if (up) return StartResult::ready;
    if (Clock::now() >= deadline) {
      const std::string text = log();
      stop(SIGKILL);
      throw std::runtime_error("redis-server did not answer PING within " +
                               std::to_string(timeout.count()) + " ms. Log:\n" + text);
    }
    sleep_a_little(attempt);
  }
}

void RedisServer::start(bool keep_port) {
  for (int attempt = 1;; ++attempt) {
    if (!options_.unix_socket) {
      if (!keep_port) {
        port_ = free_port();
      } else {
        const auto deadline = Clock::now() + start_timeout;
        for (int i = 0; !port_bindable(port_) && Clock::now() < deadline; ++i) sleep_a_little(i);
      }
    }
    write_config();
    spawn();
    if (wait_until_ready(start_timeout) == StartResult::ready) return;
    if (attempt == start_attempts) {
      throw std::runtime_error("redis-server could not bind port " + std::to_string(port_) +
                               " after " + std::to_string(attempt) + " attempts. Log:\n" + log());
    }
    if (keep_port) sleep_a_little(10);
  }
}

void RedisServer::stop(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  if (paused_ && sig != SIGKILL) kill(pid_, SIGCONT);
  if (!reap(pid_, start_timeout)) {
    kill(pid_, SIGKILL);
    reap(pid_, std::chrono::hours(1));
  }
  pid_ = -1;
  paused_ = false;
}

void RedisServer::restart() {
  stop(SIGKILL);
  start(/*keep_port=*/true);
}

void RedisServer::pause() {
  if (pid_ <= 0) throw std::logic_error("RedisServer::pause: not running");
  if (paused_) return;
  kill(pid_, SIGSTOP);
  const auto deadline = Clock::now() + start_timeout;
  for (int attempt = 0;; ++attempt) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG | WUNTRACED);
    if (r == pid_ && WIFSTOPPED(status)) break;
    if (r == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited while being paused. Log:\n" + log());
    }
    if (Clock::now() >= deadline) throw std::runtime_error("redis-server did not stop");
    sleep_a_little(attempt);
  }
  paused_ = true;
}

void RedisServer::resume() {
  if (pid_ <= 0) throw std::logic_error("RedisServer::resume: not running");
  kill(pid_, SIGCONT);
  const auto deadline = Clock::now() + start_timeout;
  for (int attempt = 0; paused_; ++attempt) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG | WCONTINUED);
    if (r == pid_ && WIFCONTINUED(status)) break;
    if (r == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited while being resumed. Log:\n" + log());
    }
    if (Clock::now() >= deadline) throw std::runtime_error("redis-server did not continue");
    sleep_a_little(attempt);
  }
  paused_ = false;
}

std::uint64_t RedisServer::calls(const std::string& command) const {
  const std::string info = cli({"INFO", "commandstats"});
  const std::string tag = "cmdstat_" + command + ":calls=";
  const auto at = info.find(tag);
  return at == std::string::npos ? 0 : std::stoull(info.substr(at + tag.size()));
}

std::string RedisServer::cli(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{redis_cli_program().string()};
  if (options_.unix_socket) {
    argv.insert(argv.end(), {"-s", socket_path_.string()});
  } else {
    argv.insert(argv.end(), {"-h", "127.0.0.1", "-p", std::to_string(port_)});
  }
  if (tls()) {
    argv.insert(argv.end(),
                {"--tls", "--sni", "localhost", "--cacert", tls_files_.ca_cert.string()});
    if (options_.tls_client_auth) {
      argv.insert(argv.end(), {"--cert", tls_files_.client_cert.string(), "--key",
                               tls_files_.client_key.string()});
    }
  }
  if (!options_.requirepass.empty()) argv.insert(argv.end(), {"-a", options_.requirepass});
  argv.emplace_back("--no-auth-warning");
  argv.insert(argv.end(), args.begin(), args.end());
  const RunResult r = run_process(argv, start_timeout);
  if (r.timed_out) {
    throw std::runtime_error("redis-cli did not finish within 5 s; output so far: " + r.output);
  }
  return trim(r.output);
}

std::string RedisServer::log() const {
  return read_file(dir_ / "stderr.log") + read_file(dir_ / "redis.log");
}

std::string RedisServer::log_since_spawn() const {
  return read_file(dir_ / "stderr.log", stderr_offset_) +
         read_file(dir_ / "redis.log", log_offset_);
}

redis::Config RedisServer::config() const {
  redis::Config config;
  config.host = "127.0.0.1";
  config.port = port_;
  if (options_.unix_socket) config.unix_socket = socket_path_.string();
  config.password = options_.requirepass;
  if (tls()) {
    config.tls.enabled = true;
    config.tls.ca_file = tls_files_.ca_cert.string();
    config.tls.server_name = "localhost";
    if (options_.tls_client_auth) {
      config.tls.cert_file = tls_files_.client_cert.string();
      config.tls.key_file = tls_files_.client_key.string();
    }
  }
  return config;
}

redis::Config RedisServer::config_as(const std::string& user) const {
  for (const AclUser& acl : options_.users) {
    if (acl.name == user) {
      redis::Config config = this->config();
      config.username = acl.name;
      config.password = acl.password;
      return config;
    }
  }
  throw std::logic_error("RedisServer::config_as: no ACL user " + user);
}

std::string RedisServer::url() const {
  const std::string auth =
      options_.requirepass.empty() ? "" : ":" + percent_encode(options_.requirepass, false) + "@";
  if (options_.unix_socket) {
    return "unix://" + auth + percent_encode(socket_path_.string(), true);
  }
  std::string url =
      (tls() ? "rediss://" : "redis://") + auth + "127.0.0.1:" + std::to_string(port_);
  if (tls()) {
    url +=
        "?ca_file=" + percent_encode(tls_files_.ca_cert.string(), true) + "&server_name=localhost";
    if (options_.tls_client_auth) {
      url += "&cert_file=" + percent_encode(tls_files_.client_cert.string(), true) +
             "&key_file=" + percent_encode(tls_files_.client_key.string(), true);
    }
  }
  return url;
}

}  // namespace tiercache::test
