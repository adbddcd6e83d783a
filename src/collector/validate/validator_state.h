// The validator's decision state as bytes (docs/collector.md "Restarts"): what a restart
// needs to decide every later frame exactly as one uninterrupted run would. The store keeps
// one blob per meter and one per unknown ID with candidate chains, written in the same
// transaction as the decisions they led to.
//
// Format: a version byte, then fixed-width little-endian fields in declaration order;
// optionals and lists carry a presence byte or a count. A blob that does not parse (another
// version, truncated) is refused: the store then falls back to re-deciding pending frames.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/observation.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

using CandidateChains = std::vector<std::vector<Observation>>;

[[nodiscard]] std::string encode_meter_state(const MeterState& m);
[[nodiscard]] std::optional<MeterState> decode_meter_state(std::string_view blob);
[[nodiscard]] std::string encode_candidates(const CandidateChains& chains);
[[nodiscard]] std::optional<CandidateChains> decode_candidates(std::string_view blob);

}  // namespace imsm::collector
