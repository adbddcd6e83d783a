#include "protocol/stream_framer.h"

#include <cstring>

namespace imsm::protocol {

const char* to_string(SkipReason r) {
  switch (r) {
    case SkipReason::NoStopByte:
      return "no_stop_byte";
    case SkipReason::NonZeroPadding:
      return "non_zero_padding";
    case SkipReason::CutByGap:
      return "cut_by_gap";
    case SkipReason::CutAtEnd:
      return "cut_at_end";
  }
  return "unknown";
}

const char* to_string(Burst b) {
  switch (b) {
    case Burst::Unknown:
      return "unknown";
    case Burst::Alone:
      return "alone";
    case Burst::Shared:
      return "shared";
    case Burst::Overlapped:
      return "overlapped";
  }
  return "unknown";
}

std::uint64_t SkipCounts::total() const {
  std::uint64_t t = 0;
  for (auto n : by_reason) t += n;
  return t;
}

namespace {

std::optional<Nanos> time_at(std::optional<Nanos> first, Nanos spacing, std::size_t i) {
  if (!first) return std::nullopt;
  return *first + spacing * static_cast<std::int64_t>(i);
}

}  // namespace

void StreamFramer::push(std::span<const std::uint8_t> bytes, std::vector<LocatedFrame>& out) {
  // Untimed bytes after timed ones continue the burst at the last known time.
  push_impl(bytes, timed_ ? last_time_ : std::nullopt, Nanos{0}, out);
}

void StreamFramer::push(std::span<const std::uint8_t> bytes, Nanos first, Nanos spacing,
                        std::vector<LocatedFrame>& out) {
  if (bytes.empty()) return;
  if (last_time_ && first - *last_time_ > options_.idle_gap) close_burst(SkipReason::CutByGap, out);
  timed_ = true;
  push_impl(bytes, first, spacing, out);
}

void StreamFramer::idle(Nanos now, std::vector<LocatedFrame>& out) {
  if (last_time_ && now - *last_time_ > options_.idle_gap) close_burst(SkipReason::CutByGap, out);
}

void StreamFramer::finish(std::vector<LocatedFrame>& out) {
  close_burst(SkipReason::CutAtEnd, out);
}

void StreamFramer::close_burst(SkipReason reason, std::vector<LocatedFrame>& out) {
  skipped_.by_reason[static_cast<std::size_t>(reason)] += carry_len_;
  carry_len_ = 0;
  settle({}, std::nullopt, Nanos{0}, true, out);
  tail_len_ = 0;
  burst_start_ = bytes_in_;
}

void StreamFramer::emit(const std::uint8_t* window, std::uint64_t offset, std::optional<Nanos> time,
                        std::vector<LocatedFrame>& out) const {
  out.push_back(LocatedFrame{decode_unchecked(window), timed_ ? Burst::Shared : Burst::Unknown,
                             offset, time});
}

void StreamFramer::settle(std::span<const std::uint8_t> bytes, std::optional<Nanos> first,
                          Nanos spacing, bool closing, std::vector<LocatedFrame>& out) {
  // The burst's bytes [view_start, bytes_in_): the kept tail, then the new bytes. A staged
  // frame at p is undecided while bytes_in_ < p + kTailMax + 1, so p + 1 >= view_start.
  std::array<std::uint8_t, kTailMax + 2 * kFrameSize> small{};
  std::vector<std::uint8_t> large;
  const std::size_t len = tail_len_ + bytes.size();
  std::uint8_t* v = small.data();
  if (len > small.size()) {
    large.resize(len);
    v = large.data();
  }
  std::memcpy(v, tail_.data(), tail_len_);
  if (!bytes.empty()) std::memcpy(v + tail_len_, bytes.data(), bytes.size());
  const std::uint64_t view_start = bytes_in_ - len;
  auto time_of = [&](std::uint64_t offset) {
    const std::size_t i = static_cast<std::size_t>(offset - view_start);
    return i < tail_len_ ? tail_time_[i] : time_at(first, spacing, i - tail_len_);
  };
  std::size_t done = 0;
  for (; done < stage_.size(); ++done) {
    LocatedFrame f = stage_[done];
    if (!closing && f.offset + kTailMax + 1 > bytes_in_) break;
    // Alone: the burst held exactly these 12 bytes.
    if (closing && f.offset == burst_start_ && f.offset + kFrameSize == bytes_in_)
      f.burst = Burst::Alone;
    out.push_back(f);
    const std::size_t lead = out.size() - 1;
    ++frames_out_;
    for (std::uint64_t q = f.offset + 1; q < f.offset + kFrameSize; ++q) {
      if (q + kFrameSize > bytes_in_) break;
      if (q < view_start || !is_frame_window(v + (q - view_start))) continue;
      emit(v + (q - view_start), q, time_of(q), out);
      out.back().overlaps = true;
      out.back().burst = Burst::Overlapped;
      out[lead].burst = Burst::Overlapped;
      ++frames_out_;
      ++alternatives_out_;
    }
  }
  stage_.erase(stage_.begin(), stage_.begin() + static_cast<std::ptrdiff_t>(done));
  const std::size_t keep = std::min(len, kTailMax);
  for (std::size_t i = 0; i < keep; ++i) {
    const std::uint64_t offset = bytes_in_ - keep + i;
    tail_time_[i] = time_of(offset);
    tail_[i] = v[offset - view_start];
  }
  tail_len_ = keep;
}

void StreamFramer::skip_window(const std::uint8_t* window) {
  const auto reason =
      window[kStop] != kStopByte ? SkipReason::NoStopByte : SkipReason::NonZeroPadding;
  ++skipped_.by_reason[static_cast<std::size_t>(reason)];
}

std::size_t StreamFramer::scan(const std::uint8_t* b, std::size_t n, std::size_t p,
                               std::size_t start_limit, std::uint64_t base_offset,
                               std::optional<Nanos> first, Nanos spacing,
                               std::vector<LocatedFrame>& out) {
  auto& no_stop = skipped_.by_reason[static_cast<std::size_t>(SkipReason::NoStopByte)];
  while (p < start_limit && p + kFrameSize <= n) {
    if (!first && !timed_) {
      // Dense run of back-to-back frames without times: the common case of a busy capture.
      // Counted first, then decoded into place (cheaper than a push_back per frame).
      std::size_t q = p;
      while (q + kFrameSize <= n && q < start_limit && is_frame_window(b + q)) q += kFrameSize;
      if (q != p) {
        const std::size_t base = out.size();
        const std::size_t k = (q - p) / kFrameSize;
        out.resize(base + k);
        LocatedFrame* dst = out.data() + base;
        const Burst burst = timed_ ? Burst::Shared : Burst::Unknown;
        for (std::size_t i = 0; i < k; ++i, p += kFrameSize) {
          dst[i].frame = decode_unchecked(b + p);
          dst[i].offset = base_offset + p;
          dst[i].burst = burst;
        }
        frames_out_ += k;
        continue;
      }
    }
    if (b[p + kStop] == kStopByte) {
      if (b[p + kPad1] == 0 && b[p + kPad2] == 0) {
        emit(b + p, base_offset + p, time_at(first, spacing, p), out);
        if (!timed_) ++frames_out_;
        p += kFrameSize;
      } else {
        skip_window(b + p);
        ++p;
      }
      continue;
    }
    // No stop byte at p+11: the next candidate start is 11 before the next 0x0D. Every
    // start before it lacks a stop byte, so count them in bulk (the memchr fast path).
    const std::size_t search_from = p + kFrameSize;
    const std::size_t last_start = std::min(start_limit, n - kStop);  // exclusive
    const void* hit =
        search_from < n ? std::memchr(b + search_from, kStopByte, n - search_from) : nullptr;
    std::size_t next =
        hit ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - b) - kStop
            : last_start;
    if (next > last_start) next = last_start;
    no_stop += next - p;
    p = next;
  }
  return p;
}

void StreamFramer::keep_tail(const std::uint8_t* b, std::size_t from, std::size_t n,
                             std::optional<Nanos> first, Nanos spacing) {
  for (std::size_t i = from; i < n; ++i) {
    carry_[carry_len_] = b[i];
    carry_time_[carry_len_] = time_at(first, spacing, i);
    ++carry_len_;
  }
}

void StreamFramer::push_impl(std::span<const std::uint8_t> bytes, std::optional<Nanos> first,
                             Nanos spacing, std::vector<LocatedFrame>& out) {
  const std::size_t n = bytes.size();
  if (n == 0) return;
  // Timed, frames wait in the stage until their alternatives are known (settle).
  std::vector<LocatedFrame>& found = timed_ ? stage_ : out;
  const std::uint64_t data_offset = bytes_in_;
  std::size_t p = 0;

  if (carry_len_ > 0) {
    // Windows that start in the carry: stitch it to the head of the new bytes.
    std::array<std::uint8_t, 2 * kCarryMax> tmp{};
    const std::size_t c = carry_len_;
    const std::size_t m = std::min(n, kCarryMax);
    std::memcpy(tmp.data(), carry_.data(), c);
    std::memcpy(tmp.data() + c, bytes.data(), m);
    const std::uint64_t carry_offset = data_offset - c;
    std::size_t q = 0;
    while (q < c && q + kFrameSize <= c + m) {
      if (is_frame_window(tmp.data() + q)) {
        emit(tmp.data() + q, carry_offset + q, carry_time_[q], found);
        if (!timed_) ++frames_out_;
        q += kFrameSize;
      } else {
        skip_window(tmp.data() + q);
        ++q;
      }
    }
    if (q < c) {  // still undecided: everything so far waits for more bytes
      const std::size_t keep = c - q;
      std::memmove(carry_.data(), carry_.data() + q, keep);
      std::move(carry_time_.begin() + static_cast<std::ptrdiff_t>(q),
                carry_time_.begin() + static_cast<std::ptrdiff_t>(c), carry_time_.begin());
      carry_len_ = keep;
      keep_tail(bytes.data(), 0, n, first, spacing);
      bytes_in_ += n;
      last_time_ = time_at(first, spacing, n - 1);
      if (timed_) settle(bytes, first, spacing, false, out);
      return;
    }
    carry_len_ = 0;
    p = q - c;
  }

  p = scan(bytes.data(), n, p, n, data_offset, first, spacing, found);
  keep_tail(bytes.data(), p, n, first, spacing);
  bytes_in_ += n;
  if (first) last_time_ = time_at(first, spacing, n - 1);
  if (timed_) settle(bytes, first, spacing, false, out);
}

}  // namespace imsm::protocol
