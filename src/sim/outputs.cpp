#include "sim/outputs.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "io/capture_times.h"
#include "io/pty.h"
#include "io/serial_port.h"
#include "io/tcp_listener.h"
#include "sim/bus_model.h"

namespace imsm::sim {

Result<OutputSpec, std::string> parse_output_spec(const std::string& text) {
  OutputSpec s;
  s.text = text;
  std::string rest = text;
  // "BUS=..." (a bus name has no ':' and no '=')
  if (const auto eq = rest.find('='); eq != std::string::npos && rest.find(':') > eq) {
    s.bus = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
    if (s.bus.empty()) return unexpected("'" + text + "': empty bus name before '='");
  }
  auto arg = [&](std::string_view prefix) -> std::optional<std::string> {
    if (rest.rfind(prefix, 0) == 0) return rest.substr(prefix.size());
    return std::nullopt;
  };
  if (rest == "stdout" || rest == "-") {
    s.kind = OutputKind::Stdout;
  } else if (rest == "pty") {
    s.kind = OutputKind::Pty;
  } else if (auto f = arg("file:")) {
    s.kind = OutputKind::File;
    s.target = *f;
    if (s.target.empty()) return unexpected("'" + text + "': file: needs a path");
  } else if (auto d = arg("serial:")) {
    s.kind = OutputKind::Serial;
    s.target = *d;
    if (s.target.empty()) return unexpected("'" + text + "': serial: needs a device path");
  } else if (auto h = arg("tcp-listen:")) {
    s.kind = OutputKind::TcpListen;
    s.target = *h;
    auto hp = io::parse_host_port(s.target);
    if (!hp) return unexpected("'" + text + "': " + hp.error());
  } else {
    return unexpected("'" + text +
                      "': expected file:PATH, stdout, pty, serial:DEVICE or tcp-listen:HOST:PORT "
                      "(optionally BUS=...)");
  }
  return s;
}

namespace {

// Raw bytes and the .times sidecar. A new sidecar line wherever the spacing is not B.
class FileOutput final : public Output {
 public:
  FileOutput(std::FILE* data, std::FILE* times, std::string bus, std::string path, bool is_stdout,
             bool flush_each_run)
      : data_(data),
        times_(times),
        bus_(std::move(bus)),
        path_(std::move(path)),
        stdout_(is_stdout),
        flush_each_run_(flush_each_run) {
    if (!stdout_) std::setvbuf(data_, nullptr, _IOFBF, 1 << 20);
    if (times_) std::setvbuf(times_, nullptr, _IOFBF, 1 << 18);
  }
  ~FileOutput() override { close(); }

  void write_run(std::int64_t t_ns, std::span<const std::uint8_t> bytes) override {
    if (bytes.empty()) return;
    if (times_ && !(have_last_ && t_ns == last_byte_ns_ + kByteNs)) {
      const std::string line = io::format_burst_mark({offset_, t_ns});
      std::fwrite(line.data(), 1, line.size(), times_);
    }
    if (std::fwrite(bytes.data(), 1, bytes.size(), data_) != bytes.size()) failed_ = true;
    if (flush_each_run_) std::fflush(data_);
    offset_ += bytes.size();
    last_byte_ns_ = t_ns + static_cast<std::int64_t>(bytes.size() - 1) * kByteNs;
    have_last_ = true;
  }
  [[nodiscard]] std::string announce() const override {
    return stdout_ ? "stdout " + bus_ : "file " + bus_ + " " + path_;
  }
  void finish() override { close(); }
  [[nodiscard]] bool writes_stdout() const override { return stdout_; }

 private:
  void close() {
    if (data_) {
      if (std::fflush(data_) != 0) failed_ = true;
      if (!stdout_) std::fclose(data_);
      data_ = nullptr;
    }
    if (times_) {
      std::fclose(times_);
      times_ = nullptr;
    }
  }
  std::FILE* data_;
  std::FILE* times_;
  std::string bus_;
  std::string path_;
  bool stdout_;
  bool flush_each_run_;
  std::uint64_t offset_ = 0;
  std::int64_t last_byte_ns_ = 0;
  bool have_last_ = false;
  bool failed_ = false;
};

// Writes `bytes` to a non-blocking fd. At maximum speed waits for the reader (until stop);
// in real time, what does not fit is lost as on a wire nobody listens to.
std::size_t write_fd(int fd, std::span<const std::uint8_t> bytes, const OutputContext& ctx) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w > 0) {
      done += static_cast<std::size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!ctx.max_speed || (ctx.stop && ctx.stop->load())) break;
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, 100);
      continue;
    }
    break;  // EIO and friends: the bytes are lost
  }
  return bytes.size() - done;
}

class PtyOutput final : public Output {
 public:
  PtyOutput(io::Pty pty, std::string bus, const OutputContext& ctx)
      : pty_(std::move(pty)), bus_(std::move(bus)), ctx_(ctx) {}
  void start() override {
    // At maximum speed wait for a reader, then give it a moment to set its terminal up
    // (a TCSAFLUSH would discard what was already written).
    if (!ctx_.max_speed) return;
    if (wait_for_reader()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  void write_run(std::int64_t, std::span<const std::uint8_t> bytes) override {
    // Nobody has the pty open: in real time the bytes are lost as on an unwatched wire; at
    // maximum speed the run waits for a reader to come (back).
    if (!io::pty_has_reader(pty_) && (!ctx_.max_speed || !wait_for_reader())) {
      lost_ += bytes.size();
      return;
    }
    lost_ += write_fd(pty_.master.get(), bytes, ctx_);
  }
  [[nodiscard]] std::string announce() const override { return "pty " + bus_ + " " + pty_.path; }
  void finish() override {
    // Give the reader the chance to take what is still buffered before the pty goes away:
    // wait while it makes progress, giving up after drain_timeout_s without any. The
    // slave's queue must also stay empty for a while, since the kernel moves bytes from the
    // master's side into it in the background: one empty look proves little.
    using Clock = std::chrono::steady_clock;
    const auto patience = std::chrono::milliseconds(static_cast<int>(ctx_.drain_timeout_s * 1000));
    auto last_progress = Clock::now();
    auto empty_since = Clock::now();
    std::size_t last_pending = SIZE_MAX;
    while (io::pty_has_reader(pty_) && !(ctx_.stop && ctx_.stop->load())) {
      const auto now = Clock::now();
      const std::size_t pending = io::pty_pending_bytes(pty_);
      if (pending < last_pending) last_progress = now;
      last_pending = pending;
      if (pending > 0) empty_since = now;
      if (now - empty_since >= std::chrono::milliseconds(250)) break;
      if (now - last_progress >= patience) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  [[nodiscard]] std::uint64_t bytes_lost() const override { return lost_; }

 private:
  bool wait_for_reader() {
    while (!io::pty_has_reader(pty_)) {
      if (ctx_.stop && ctx_.stop->load()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  io::Pty pty_;
  std::string bus_;
  OutputContext ctx_;
  std::uint64_t lost_ = 0;
};

class SerialOutput final : public Output {
 public:
  SerialOutput(io::UniqueFd fd, std::string bus, std::string path, const OutputContext& ctx)
      : fd_(std::move(fd)), bus_(std::move(bus)), path_(std::move(path)), ctx_(ctx) {
    ctx_.max_speed = true;  // the UART paces the bytes itself: always wait for it
  }
  void write_run(std::int64_t, std::span<const std::uint8_t> bytes) override {
    lost_ += write_fd(fd_.get(), bytes, ctx_);
  }
  [[nodiscard]] std::string announce() const override { return "serial " + bus_ + " " + path_; }
  void finish() override { (void)::tcdrain(fd_.get()); }
  [[nodiscard]] std::uint64_t bytes_lost() const override { return lost_; }

 private:
  io::UniqueFd fd_;
  std::string bus_;
  std::string path_;
  OutputContext ctx_;
  std::uint64_t lost_ = 0;
};

class TcpOutput final : public Output {
 public:
  TcpOutput(io::TcpListener l, std::string bus, const OutputContext& ctx)
      : l_(std::move(l)), bus_(std::move(bus)), ctx_(ctx) {}
  void start() override {
    // At maximum speed nothing would reach a client that connects a moment late: wait for
    // the first one. In real time, bytes before anyone connects are lost, as on a converter.
    if (!ctx_.max_speed) return;
    while (!l_.wait_for_client(100))
      if (ctx_.stop && ctx_.stop->load()) return;
  }
  void write_run(std::int64_t, std::span<const std::uint8_t> bytes) override {
    l_.broadcast(bytes, ctx_.max_speed, ctx_.stop);
  }
  [[nodiscard]] std::string announce() const override {
    return "tcp-listen " + bus_ + " " + l_.address();
  }
  void finish() override { l_.drain(static_cast<int>(ctx_.drain_timeout_s * 1000)); }
  [[nodiscard]] std::uint64_t bytes_lost() const override { return l_.bytes_lost(); }

 private:
  io::TcpListener l_;
  std::string bus_;
  OutputContext ctx_;
};

}  // namespace

Result<std::unique_ptr<Output>, std::string> make_output(const OutputSpec& spec,
                                                         const std::string& bus_name,
                                                         const OutputContext& ctx) {
  switch (spec.kind) {
    case OutputKind::File: {
      std::FILE* f = std::fopen(spec.target.c_str(), "wb");
      if (!f) return unexpected(spec.target + ": " + std::strerror(errno));
      const std::string tp = spec.target + ".times";
      std::FILE* t = std::fopen(tp.c_str(), "wb");
      if (!t) {
        std::fclose(f);
        return unexpected(tp + ": " + std::strerror(errno));
      }
      return std::unique_ptr<Output>(new FileOutput(f, t, bus_name, spec.target, false, false));
    }
    case OutputKind::Stdout:
      return std::unique_ptr<Output>(
          new FileOutput(stdout, nullptr, bus_name, "-", true, !ctx.max_speed));
    case OutputKind::Pty: {
      auto p = io::open_pty();
      if (!p) return unexpected(p.error());
      return std::unique_ptr<Output>(new PtyOutput(std::move(p).value(), bus_name, ctx));
    }
    case OutputKind::Serial: {
      io::SerialOptions so;
      so.mode = io::SerialMode::Write;
      so.nonblocking = true;
      auto fd = io::open_serial(spec.target, so);
      if (!fd) return unexpected(fd.error());
      return std::unique_ptr<Output>(
          new SerialOutput(std::move(fd).value(), bus_name, spec.target, ctx));
    }
    case OutputKind::TcpListen: {
      auto hp = io::parse_host_port(spec.target);
      if (!hp) return unexpected(hp.error());
      auto l = io::TcpListener::listen(*hp);
      if (!l) return unexpected(l.error());
      return std::unique_ptr<Output>(new TcpOutput(std::move(l).value(), bus_name, ctx));
    }
  }
  return unexpected(std::string("unknown output"));
}

}  // namespace imsm::sim
