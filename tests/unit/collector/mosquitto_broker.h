// A real mosquitto for tests (DEPENDENCIES.md): foreground, on 127.0.0.1, a temporary
// 3-line config, restartable on the same port. Readiness is a handshake (the port accepts a
// TCP connection), never a fixed sleep.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

namespace imsm::test {

class MosquittoBroker {
 public:
  // `tls_options`: mosquitto listener lines (cafile, certfile, keyfile, require_certificate)
  // for a second, TLS listener on tls_port(). It is configured first, so it is open once the
  // plain port accepts (mosquitto opens its listeners in order before serving).
  explicit MosquittoBroker(const std::filesystem::path& dir, const std::string& tls_options = "")
      : dir_(dir), port_(free_port()), tls_port_(tls_options.empty() ? 0 : free_port()) {
    {
      std::ofstream conf(dir_ / "mosquitto.conf");
      if (tls_port_ != 0) conf << "listener " << tls_port_ << " 127.0.0.1\n" << tls_options;
      conf << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
    }
    start();
  }
  ~MosquittoBroker() { stop(); }
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int tls_port() const { return tls_port_; }
  [[nodiscard]] std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  void start() {
    // Everything the child needs is prepared before fork(): other threads (Paho's) may hold
    // allocator or stdio locks, so the child only calls dup2 and exec.
    const std::string log = (dir_ / "mosquitto.log").string();
    const std::string conf = (dir_ / "mosquitto.conf").string();
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      ::execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), nullptr);
      ::_exit(127);  // not installed: scripts/install-deps installs mosquitto
    }
    ::close(log_fd);
    if (pid_ < 0) throw std::runtime_error("fork failed");
    wait_accepting();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("no free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(a.sin_port);
  }

  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }

  // Retries connect() until the listener is up (or the broker died / 5 s passed).
  void wait_accepting() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!accepts()) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("mosquitto exited: " + log_text());
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("mosquitto did not listen on port " + std::to_string(port_));
      std::this_thread::yield();
    }
  }

 public:
  [[nodiscard]] std::string log_text() const {
    std::ifstream in(dir_ / "mosquitto.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::filesystem::path dir_;
  int port_;
  int tls_port_;
  pid_t pid_ = -1;
};

}  // namespace imsm::test
