// The Modbus TCP gateway's register map (docs/modbus.md): a meter's latest state as 16-bit
// registers, one constant and one comment per register (as ESPHome's atm90e32_reg.h). The same
// map answers input registers (function 04) and holding registers (function 03); addresses
// are 0-based protocol addresses (add 30001 / 40001 for the "Modicon" numbering).
//
//   addr words type    value
//   0    2     uint32  total energy, 0.01 kWh (the register counts whole kWh: ends in 00)
//   2    2     float32 total energy, kWh
//   4    2     uint32  peak demand, W (counts x 20, guide 2.4.2)
//   6    2     float32 peak demand, kW
//   8    1     uint16  demand reset counter (0..255, wraps)
//   9    2     uint32  seconds since the last reading
//   11   1     uint16  status: 0 waiting (no reading yet), 1 online, 2 silent
//   12   1     uint16  meter ID (bytes 2-3 of the frame)
//   13   1     uint16  model series: 1000 or 2000 (0: model unknown)
//   14   1     uint16  model nominal voltage code (ModelVoltageCode; 0: unknown)
//   15   1     uint16  model elements: 1, 2 or 3 (0: unknown)
//   16   1     uint16  model CT primary, A (0: unknown)
//   17   1     uint16  registered: 1 in the configuration, 0 discovered on the bus
//   18   1     uint16  epoch: 0 for the first meter at this ID, +1 per replacement
//
// 32-bit values are big-endian words, high word first (the lower address holds bits 31..16);
// float32 is IEEE 754 binary32 in the same word order. A meter without a reading answers
// "not available" in its reading registers: 0xFFFFFFFF for uint32, 0xFFFF for uint16, NaN
// (0x7FC00000) for float32 (SunSpec's convention).
#pragma once

#include <array>
#include <cstdint>

#include "collector/report/listing.h"

namespace imsm::collector::modbus {

inline constexpr std::uint16_t kRegEnergyCentiKwh = 0;    // uint32, 0.01 kWh
inline constexpr std::uint16_t kRegEnergyKwhF32 = 2;      // float32, kWh
inline constexpr std::uint16_t kRegPeakDemandW = 4;       // uint32, W
inline constexpr std::uint16_t kRegPeakDemandKwF32 = 6;   // float32, kW
inline constexpr std::uint16_t kRegDemandResets = 8;      // uint16
inline constexpr std::uint16_t kRegSecondsSince = 9;      // uint32, s
inline constexpr std::uint16_t kRegStatus = 11;           // uint16, MeterStatusCode
inline constexpr std::uint16_t kRegMeterId = 12;          // uint16
inline constexpr std::uint16_t kRegModelSeries = 13;      // uint16, 1000 | 2000 | 0
inline constexpr std::uint16_t kRegModelVoltage = 14;     // uint16, ModelVoltageCode
inline constexpr std::uint16_t kRegModelElements = 15;    // uint16, 1..3 | 0
inline constexpr std::uint16_t kRegModelCtPrimaryA = 16;  // uint16, A | 0
inline constexpr std::uint16_t kRegRegistered = 17;       // uint16, 0 | 1
inline constexpr std::uint16_t kRegEpoch = 18;            // uint16
inline constexpr std::uint16_t kRegisterCount = 19;

enum class MeterStatusCode : std::uint16_t { Waiting = 0, Online = 1, Silent = 2 };

// protocol::NominalVoltage + 1, so 0 can mean unknown.
enum class ModelVoltageCode : std::uint16_t {
  Unknown = 0,
  V120 = 1,
  V277 = 2,
  V120_208 = 3,
  V120_240 = 4,
  V277_480 = 5,
  V347_600 = 6,
};

inline constexpr std::uint16_t kNotAvailable16 = 0xFFFF;
inline constexpr std::uint32_t kNotAvailable32 = 0xFFFF'FFFF;

using Registers = std::array<std::uint16_t, kRegisterCount>;

// The registers of meter `m` at time `now` (the status in `m` is the caller's, computed for
// the same time). Seconds since the last reading are whole seconds, rounded down, 0 for a
// reading stamped after `now`, saturating at 0xFFFFFFFE. The 0.01 kWh register wraps modulo
// 2^32 (after 42,949,672.96 kWh, beyond the 24-bit register's 16,777,215 kWh).
[[nodiscard]] Registers register_map(const MeterSummary& m, UtcMicros now);

}  // namespace imsm::collector::modbus
