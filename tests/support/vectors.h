// The guide's worked examples, loaded from tests/vectors/guide_vectors.json. Every suite
// uses these instead of repeating the numbers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace imsm::test {

struct FrameVector {
  std::string name;
  std::vector<std::uint8_t> raw;
  std::uint16_t meter_id = 0;
  std::uint16_t peak_demand_counts = 0;
  std::string peak_demand_kw;
  std::uint8_t demand_resets = 0;
  std::uint32_t total_kwh = 0;
};

// The whole file, parsed once.
const nlohmann::json& guide_vectors();
const std::vector<FrameVector>& frame_vectors();
std::vector<std::uint8_t> bytes_from_hex(const std::string& hex);
std::string read_text_file(const std::string& path);

}  // namespace imsm::test
