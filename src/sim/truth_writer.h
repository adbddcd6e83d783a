// Ground truth (--truth PATH): JSON Lines, one per transmitted frame, in bus-time order:
//   {"t_s":300.000000,"bus":"main","meter_id":2578,"raw":"000a12...0d","intact":true,"offset":0,
//    "true_mwh":1000000,"registered_mwh":1000000}
// true_mwh: the exact energy of the real load since the start (an exact meter's registration,
// no CT saturation, no class error); registered_mwh: the meter's own register (they differ
// when the meter has an error model or its CTs saturate).
// t_s: start of the frame's first byte, seconds since the start (microseconds);
// intact: the bus carried exactly these bytes, alone in their byte slots (no collision,
// no flipped bit, no dropped byte); offset: byte offset of its first slot in that bus's
// output stream (where it would have been when that byte was dropped).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/bus_model.h"

namespace imsm::sim {

// One truth line, without the trailing newline appended by the caller.
void append_truth_json(std::string& out, const TruthRecord& r, const std::string& bus,
                       std::uint16_t meter_id);

class TruthWriter {
 public:
  // Throws std::runtime_error naming the path when it cannot be created.
  explicit TruthWriter(const std::string& path);
  ~TruthWriter();
  TruthWriter(const TruthWriter&) = delete;
  TruthWriter& operator=(const TruthWriter&) = delete;

  void write(const TruthRecord& r, const std::string& bus, std::uint16_t meter_id);
  void flush();
  [[nodiscard]] std::uint64_t lines() const { return lines_; }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  std::string buf_;
  std::uint64_t lines_ = 0;
};

}  // namespace imsm::sim
