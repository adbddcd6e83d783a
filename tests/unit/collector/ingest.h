// Feeding a store as the store writer does, for the tests of what reads it back (sinks,
// outbox, HTTP, Modbus): journal each frame, let the validator decide, store the decisions,
// one batch and one commit.
#pragma once

#include <cstdint>
#include <vector>

#include "collector/store/store.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector::test {

// `in` as one committed batch from source `src` (sets each frame's source).
inline void ingest(Store& s, Validator& v, std::uint32_t src, std::vector<Observation> in) {
  Decisions d;
  s.begin();
  for (auto& o : in) {
    o.source_id = src;
    s.journal(o);
    v.process(o, d);
    s.apply(d, v);
    d.clear();
  }
  s.commit();
}

// Frames i = from..to-1 of `meter`: kWh 100 + i, peak `peak`, no reset, at kT0 + 5i minutes
// (1 kWh in 5 minutes: plausible for any model's default maximum power).
inline std::vector<Observation> series(std::uint16_t meter, int from, int to, std::uint16_t peak) {
  std::vector<Observation> out;
  for (int i = from; i < to; ++i)
    out.push_back(
        obs(0, meter, 100 + static_cast<std::uint32_t>(i), peak, 0, kT0 + i * 5 * kMinute));
  return out;
}

// The same, from the store's source "file:p" (registered on first use).
inline void ingest_series(Store& s, Validator& v, std::uint16_t meter, int from, int to,
                          std::uint16_t peak) {
  s.begin();
  const auto src = s.source_id("file:p");
  s.commit();
  ingest(s, v, src, series(meter, from, to, peak));
}

}  // namespace imsm::collector::test
