#include "io/capture_reader.h"

#include "io/serial_port.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace imsm::io {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

CaptureReader::CaptureReader(CaptureReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      owns_fd_(other.owns_fd_),
      live_(other.live_),
      path_(std::move(other.path_)),
      times_path_(std::move(other.times_path_)),
      marks_(std::move(other.marks_)) {}

CaptureReader::~CaptureReader() {
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
}

std::optional<CaptureError> CaptureReader::open(const std::string& path,
                                                const std::optional<std::string>& times_path,
                                                bool auto_times,
                                                std::optional<CaptureReader>& out) {
  const bool is_stdin = path == "-";
  int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CaptureError{CaptureError::Kind::Unreadable, path + ": " + errno_text()};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (!is_stdin) ::close(fd);
    return CaptureError{CaptureError::Kind::Unreadable, path + ": is a directory"};
  }
  CaptureReader reader(fd, is_stdin ? "<stdin>" : path);
  reader.owns_fd_ = !is_stdin;
  const std::uint64_t size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (::isatty(fd)) {
    // A serial port or pty: raw 9600 8N1, bytes timed as they arrive (no sidecar).
    if (!configure_raw(fd, 9600)) {
      if (!is_stdin) ::close(fd);
      return CaptureError{CaptureError::Kind::Unreadable,
                          path + ": cannot set 9600 8N1 raw: " + errno_text()};
    }
    reader.live_ = true;
    out.emplace(std::move(reader));
    return std::nullopt;
  }

  std::optional<std::string> sidecar = times_path;
  if (!sidecar && auto_times && !is_stdin) {
    const std::string candidate = path + ".times";
    if (::access(candidate.c_str(), F_OK) == 0) sidecar = candidate;
  }
  if (sidecar) {
    std::ifstream in(*sidecar, std::ios::binary);
    if (!in) return CaptureError{CaptureError::Kind::Unreadable, *sidecar + ": " + errno_text()};
    std::ostringstream text;
    text << in.rdbuf();
    if (auto err = parse_capture_times(text.str(), size, reader.marks_))
      return CaptureError{CaptureError::Kind::BadTimes,
                          *sidecar + ":" + std::to_string(err->line) + ": " + err->message};
    reader.times_path_ = sidecar;
  }
  out.emplace(std::move(reader));
  return std::nullopt;
}

std::optional<std::string> CaptureReader::run_live(protocol::StreamFramer& framer,
                                                   const Sink& sink) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto now = [&] { return std::chrono::duration_cast<protocol::Nanos>(Clock::now() - start); };
  std::vector<std::uint8_t> block(4096);
  std::vector<protocol::LocatedFrame> frames;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 5);  // 5 ms: well inside the 20 ms idle gap
    if (r < 0) {
      if (errno == EINTR) continue;
      return path_ + ": " + errno_text();
    }
    if (r == 0) {
      framer.idle(now(), frames);
    } else {
      const ssize_t got = ::read(fd_, block.data(), block.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got < 0 && errno != EIO) return path_ + ": " + errno_text();
      if (got <= 0) break;  // end of input, or EIO: the other side of the pty hung up
      framer.push({block.data(), static_cast<std::size_t>(got)}, now(), protocol::Nanos{0}, frames);
    }
    if (!frames.empty()) sink(frames);
    frames.clear();
  }
  framer.finish(frames);
  if (!frames.empty()) sink(frames);
  return std::nullopt;
}

std::optional<std::string> CaptureReader::run(protocol::StreamFramer& framer, const Sink& sink,
                                              std::size_t block_size) {
  if (live_) return run_live(framer, sink);
  std::vector<std::uint8_t> block(block_size);
  std::vector<protocol::LocatedFrame> frames;
  frames.reserve(block_size / protocol::kFrameSize + 2);
  std::uint64_t offset = 0;  // stream offset of block[0]
  std::size_t mark = 0;      // index of the burst containing `offset`
  const auto byte_time = protocol::kByteTime9600;
  for (;;) {
    ssize_t got = ::read(fd_, block.data(), block.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return path_ + ": " + errno_text();
    }
    if (got == 0) break;
    const auto n = static_cast<std::size_t>(got);
    if (marks_.empty()) {
      framer.push({block.data(), n}, frames);
    } else {
      // Split the block at burst boundaries; each piece carries its first byte's time.
      std::size_t i = 0;
      while (i < n) {
        const std::uint64_t at = offset + i;
        while (mark + 1 < marks_.size() && marks_[mark + 1].offset <= at) ++mark;
        std::uint64_t piece_end = offset + n;
        if (mark + 1 < marks_.size()) piece_end = std::min(piece_end, marks_[mark + 1].offset);
        const auto len = static_cast<std::size_t>(piece_end - at);
        if (at < marks_[0].offset) {
          // Bytes before the first mark: a burst at time 0.
          const auto pre =
              static_cast<std::size_t>(std::min<std::uint64_t>(len, marks_[0].offset - at));
          framer.push({block.data() + i, pre}, protocol::Nanos{0}, byte_time, frames);
          i += pre;
          continue;
        }
        const protocol::Nanos first{marks_[mark].time_ns +
                                    static_cast<std::int64_t>(at - marks_[mark].offset) *
                                        byte_time.count()};
        framer.push({block.data() + i, len}, first, byte_time, frames);
        i += len;
      }
    }
    offset += n;
    if (!frames.empty()) sink(frames);
    frames.clear();
  }
  framer.finish(frames);
  if (!frames.empty()) sink(frames);
  return std::nullopt;
}

}  // namespace imsm::io
