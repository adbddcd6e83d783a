#include "collector/modbus/register_map.h"

#include <bit>
#include <cstring>
#include <limits>

#include "protocol/model_number.h"

namespace imsm::collector::modbus {

namespace {

void put_u32(Registers& r, std::uint16_t at, std::uint32_t v) {
  r[at] = static_cast<std::uint16_t>(v >> 16);  // high word first
  r[at + 1] = static_cast<std::uint16_t>(v & 0xFFFF);
}

void put_f32(Registers& r, std::uint16_t at, float v) {
  put_u32(r, at, std::bit_cast<std::uint32_t>(v));
}

std::uint16_t status_code(const char* status) {
  if (std::strcmp(status, "online") == 0)
    return static_cast<std::uint16_t>(MeterStatusCode::Online);
  if (std::strcmp(status, "silent") == 0)
    return static_cast<std::uint16_t>(MeterStatusCode::Silent);
  return static_cast<std::uint16_t>(MeterStatusCode::Waiting);
}

std::uint32_t seconds_between(UtcMicros from, UtcMicros to) {
  if (to <= from) return 0;
  const auto s = (to - from) / kMicrosPerSecond;
  return s >= kNotAvailable32 ? kNotAvailable32 - 1 : static_cast<std::uint32_t>(s);
}

void put_model(Registers& r, const std::string& model) {
  if (model.empty()) return;  // all four stay 0: unknown
  const auto parsed = protocol::parse_model_number(model);
  if (!parsed) return;
  r[kRegModelSeries] = static_cast<std::uint16_t>(parsed->series);
  r[kRegModelVoltage] = static_cast<std::uint16_t>(static_cast<int>(parsed->nominal_voltage) + 1);
  r[kRegModelElements] = static_cast<std::uint16_t>(parsed->elements);
  r[kRegModelCtPrimaryA] = static_cast<std::uint16_t>(parsed->ct_primary_a);
}

void put_reading(Registers& r, const Point& p, UtcMicros now) {
  // Whole kWh to 0.01 kWh, modulo 2^32 like any wrapping energy register.
  put_u32(r, kRegEnergyCentiKwh,
          static_cast<std::uint32_t>(static_cast<std::uint64_t>(p.total_kwh) * 100u));
  put_f32(r, kRegEnergyKwhF32, static_cast<float>(p.total_kwh));
  const DemandCounts demand{p.peak_demand_counts};
  put_u32(r, kRegPeakDemandW, demand.watts());
  // watts / 1000 in double, then rounded once to float: the nearest float to the exact kW.
  put_f32(r, kRegPeakDemandKwF32, static_cast<float>(demand.watts() / 1000.0));
  r[kRegDemandResets] = p.demand_resets;
  put_u32(r, kRegSecondsSince, seconds_between(p.at, now));
}

}  // namespace

Registers register_map(const MeterSummary& m, UtcMicros now) {
  Registers r{};
  if (m.last) {
    put_reading(r, *m.last, now);
  } else {
    for (const auto at : {kRegEnergyCentiKwh, kRegPeakDemandW, kRegSecondsSince})
      put_u32(r, at, kNotAvailable32);
    for (const auto at : {kRegEnergyKwhF32, kRegPeakDemandKwF32})
      put_f32(r, at, std::numeric_limits<float>::quiet_NaN());
    r[kRegDemandResets] = kNotAvailable16;
  }
  r[kRegStatus] = status_code(m.status);
  r[kRegMeterId] = m.info.id;
  put_model(r, m.info.model);
  r[kRegRegistered] = m.info.registered ? 1 : 0;
  r[kRegEpoch] = static_cast<std::uint16_t>(m.info.epoch > 0xFFFF ? 0xFFFF : m.info.epoch);
  return r;
}

}  // namespace imsm::collector::modbus
