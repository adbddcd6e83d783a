// Fuzz target: the stream framer. Oracles: every byte is in one frame that does not overlap
// another or skipped exactly once, an alternative window (`overlaps`, timed only) starts
// inside the frame emitted before it, and chunking (derived from the input) never changes
// the output.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocol/stream_framer.h"

using imsm::protocol::LocatedFrame;
using imsm::protocol::Nanos;
using imsm::protocol::StreamFramer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte picks the chunk size and whether arrival times are used.
  const std::size_t chunk = 1 + data[0] % 17;
  const bool timed = data[0] & 0x80;
  const std::uint8_t* bytes = data + 1;
  const std::size_t n = size - 1;

  StreamFramer whole, pieces;
  std::vector<LocatedFrame> a, b;
  if (timed) {
    // Times: each chunk starts 1 ms after the previous one ended, except every 5th chunk,
    // which starts after a 50 ms gap; the whole-buffer run replays the same bursts.
    Nanos t{0};
    for (std::size_t i = 0, k = 0; i < n; i += chunk, ++k) {
      const std::size_t len = std::min(chunk, n - i);
      if (k % 5 == 4) t += std::chrono::milliseconds(50);
      whole.push({bytes + i, len}, t, Nanos{0}, a);
      for (std::size_t j = 0; j < len; ++j) pieces.push({bytes + i + j, 1}, t, Nanos{0}, b);
      t += std::chrono::milliseconds(1);
    }
  } else {
    whole.push({bytes, n}, a);
    for (std::size_t i = 0; i < n; i += chunk) pieces.push({bytes + i, std::min(chunk, n - i)}, b);
  }
  whole.finish(a);
  pieces.finish(b);
  if (a != b) std::abort();
  if (!(whole.skipped() == pieces.skipped())) std::abort();
  std::size_t primaries = 0;
  std::uint64_t base = 0;
  for (const auto& f : a) {
    if (f.offset + imsm::protocol::kFrameSize > n) std::abort();
    if (!imsm::protocol::is_frame_window(bytes + f.offset)) std::abort();
    if (!f.overlaps) {
      ++primaries;
      base = f.offset;
    } else if (!timed || primaries == 0 || f.offset <= base ||
               f.offset >= base + imsm::protocol::kFrameSize) {
      std::abort();
    }
  }
  if (primaries * imsm::protocol::kFrameSize + whole.skipped().total() != n) std::abort();
  if (a.size() - primaries != whole.alternatives_out()) std::abort();
  return 0;
}
