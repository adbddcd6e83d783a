#include "io/capture_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "io/serial_port.h"

namespace imsm::io {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

CaptureError times_error(const std::string& sidecar, const TimesError& e) {
  if (e.unreadable) return CaptureError{CaptureError::Kind::Unreadable, sidecar + ": " + e.message};
  return CaptureError{CaptureError::Kind::BadTimes,
                      sidecar + ":" + std::to_string(e.line) + ": " + e.message};
}

}  // namespace

std::optional<CaptureError> CaptureReader::open(const std::string& path,
                                                const std::optional<std::string>& times_path,
                                                bool auto_times,
                                                std::optional<CaptureReader>& out) {
  const bool is_stdin = path == "-";
  UniqueFd owned;
  if (!is_stdin) {
    owned.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned) return CaptureError{CaptureError::Kind::Unreadable, path + ": " + errno_text()};
  }
  const int fd = is_stdin ? STDIN_FILENO : owned.get();
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    return CaptureError{CaptureError::Kind::Unreadable, path + ": is a directory"};
  CaptureReader reader(std::move(owned), fd, is_stdin ? "<stdin>" : path);
  reader.size_ = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (::isatty(fd)) {
    // A serial port or pty: raw 9600 8N1, bytes timed as they arrive (no sidecar).
    if (!configure_raw(fd, 9600))
      return CaptureError{CaptureError::Kind::Unreadable,
                          path + ": cannot set 9600 8N1 raw: " + errno_text()};
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
    if (auto err = reader.check_times(*sidecar, reader.size_)) return err;
  }
  out.emplace(std::move(reader));
  return std::nullopt;
}

// The first, checking pass over the sidecar: every line, constant memory.
std::optional<CaptureError> CaptureReader::check_times(const std::string& sidecar,
                                                       std::uint64_t size) {
  std::optional<CaptureTimesStream> stream;
  if (auto err = CaptureTimesStream::open(sidecar, size, stream))
    return CaptureError{CaptureError::Kind::Unreadable, *err};
  std::optional<BurstMark> mark;
  for (;;) {
    if (auto err = stream->next(mark)) return times_error(sidecar, *err);
    if (!mark) break;
    ++marks_;
  }
  if (marks_ == 0)
    empty_times_ = sidecar;
  else
    times_path_ = sidecar;
  return std::nullopt;
}

std::optional<std::string> CaptureReader::run_live(ByteSink& sink) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto now = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  };
  std::vector<std::uint8_t> block(4096);
  while (!(stop_ && stop_->load())) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 5);  // 5 ms: well inside the 20 ms idle gap
    if (r < 0) {
      if (errno == EINTR) continue;
      return path_ + ": " + errno_text();
    }
    if (r == 0) {
      sink.idle(now());
    } else {
      const ssize_t got = ::read(fd_, block.data(), block.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got < 0 && errno != EIO) return path_ + ": " + errno_text();
      if (got <= 0) break;  // end of input, or EIO: the other side of the pty hung up
      sink.bytes({block.data(), static_cast<std::size_t>(got)}, now(), std::chrono::nanoseconds{0});
    }
    sink.block_done();
  }
  return std::nullopt;
}

std::optional<std::string> CaptureReader::run(ByteSink& sink, std::size_t block_size) {
  if (live_) return run_live(sink);
  std::optional<CaptureTimesStream> times;
  if (times_path_) {
    if (auto err = CaptureTimesStream::open(*times_path_, size_, times)) return err;
  }
  // The burst containing the next byte (`cur`) and the one after it (`nxt`), read ahead.
  std::optional<BurstMark> cur, nxt;
  auto read_mark = [&]() -> std::optional<std::string> {
    if (!times) return std::nullopt;
    if (auto err = times->next(nxt)) return times_error(*times_path_, *err).message;
    return std::nullopt;
  };
  if (auto err = read_mark()) return err;

  std::vector<std::uint8_t> block(block_size);
  std::uint64_t offset = 0;  // stream offset of block[0]
  const auto byte_time = kByteTime9600;
  for (;;) {
    ssize_t got = ::read(fd_, block.data(), block.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return path_ + ": " + errno_text();
    }
    if (got == 0) break;
    const auto n = static_cast<std::size_t>(got);
    if (!times) {
      sink.bytes({block.data(), n}, std::nullopt, byte_time);
    } else {
      // Split the block at burst boundaries; each piece carries its first byte's time.
      std::size_t i = 0;
      while (i < n) {
        const std::uint64_t at = offset + i;
        while (nxt && nxt->offset <= at) {
          cur = nxt;
          if (auto err = read_mark()) return err;
        }
        std::uint64_t piece_end = offset + n;
        if (nxt) piece_end = std::min(piece_end, nxt->offset);
        const auto len = static_cast<std::size_t>(piece_end - at);
        // Bytes before the first mark: a burst at time 0.
        const std::chrono::nanoseconds first{
            cur ? cur->time_ns + static_cast<std::int64_t>(at - cur->offset) * byte_time.count()
                : 0};
        sink.bytes({block.data() + i, len}, first, byte_time);
        i += len;
      }
    }
    offset += n;
    sink.block_done();
  }
  return std::nullopt;
}

}  // namespace imsm::io
