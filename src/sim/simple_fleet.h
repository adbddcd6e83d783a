// The simple mode of `imsmeter simulate --meters N --model M`: a fleet of N meters on one
// bus with random distinct IDs and random loads, drawn from the seed.
#pragma once

#include <cstdint>
#include <string>

#include "sim/fleet_config.h"

namespace imsm::sim {

struct SimpleFleetOptions {
  int meters = 1;
  std::string model;
  double bit_error_rate = 0.0;
};

// Throws ConfigError for a bad model number or count.
[[nodiscard]] FleetConfig make_simple_fleet(const SimpleFleetOptions& o, std::uint64_t seed);

}  // namespace imsm::sim
