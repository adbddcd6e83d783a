#include "meter/meter_config.h"

#include <cmath>

namespace imsm::meter {

const char* to_string(AccumulationMode m) {
  switch (m) {
    case AccumulationMode::Net:
      return "net";
    case AccumulationMode::Absolute:
      return "absolute";
    case AccumulationMode::Delivered:
      return "delivered";
  }
  return "?";
}

std::optional<AccumulationMode> accumulation_mode_from(std::string_view s) {
  if (s == "net") return AccumulationMode::Net;
  if (s == "absolute") return AccumulationMode::Absolute;
  if (s == "delivered") return AccumulationMode::Delivered;
  return std::nullopt;
}

const char* to_string(ConfigError e) {
  switch (e) {
    case ConfigError::BadModelNumber:
      return "model number does not parse";
    case ConfigError::BadCtSets:
      return "CT sets per element must be 1..3";
    case ConfigError::BadCtLine:
      return "a CT must sit on line 1..3 (or its own line)";
  }
  return "?";
}

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [-1, 1].
double unit(std::uint64_t& state) {
  const std::uint64_t r = splitmix64(state) >> 11;  // 53 bits
  return static_cast<double>(r) / static_cast<double>(1ULL << 52) - 1.0;
}

// Guide 2.2 Tables 1-2: supply ranges by the element's nominal L-N voltage.
SupplyRange supply_for(double nominal_v) {
  if (nominal_v < 150) return {102, 138};
  if (nominal_v < 230) return {175, 240};  // high leg of a grounded delta (207.8 V)
  if (nominal_v < 320) return {235, 320};
  return {295, 400};
}

}  // namespace

ErrorModel ErrorModel::from_seed(std::uint64_t seed) {
  ErrorModel e;
  e.enabled = true;
  std::uint64_t s = seed;
  for (int k = 0; k < kMaxElements; ++k) {
    e.gain_error_ppm[static_cast<std::size_t>(k)] = 3000.0 * unit(s);
    e.phase_error_mrad[static_cast<std::size_t>(k)] = 1.5 * unit(s);
  }
  return e;
}

Result<MeterConfig, ConfigError> MeterConfig::from_model(const protocol::ModelConfig& m,
                                                         const MeterOptions& o) {
  MeterConfig c;
  c.model = m;
  c.meter_id = o.meter_id;
  c.demand = o.demand.has_value() ? *o.demand : m.demand.value_or(true);
  c.elements = m.elements;
  c.accumulation = o.accumulation;
  c.error_model = o.error_model;
  c.front_end = o.front_end;
  c.tx_latency_ns = o.tx_latency_ns;
  for (std::size_t k = 0; k < kMaxElements; ++k) {
    const ElementWiring& w = o.wiring[k];
    if (w.ct_sets < 1 || w.ct_sets > kMaxCtSets) return unexpected(ConfigError::BadCtSets);
    for (const CtSetWiring& s : w.sets) {
      if (s.line < -1 || s.line >= kMaxLines) return unexpected(ConfigError::BadCtLine);
    }
    c.wiring[k] = w;
  }
  c.ct_ratio =
      static_cast<double>(m.ct_primary_a) * 1000.0 / static_cast<double>(m.ct_secondary_ma);
  c.rated_primary_a = static_cast<double>(m.ct_primary_a);
  for (int k = 0; k < kMaxElements; ++k) {
    const auto i = static_cast<std::size_t>(k);
    if (k < m.elements) {
      c.nominal_v[i] = protocol::element_nominal_voltage_v(m, k);
      c.supply[i] = supply_for(c.nominal_v[i]);
    }
  }
  return c;
}

Result<MeterConfig, ConfigError> MeterConfig::from_model_number(std::string_view model_number,
                                                                const MeterOptions& o) {
  auto m = protocol::parse_model_number(model_number);
  if (!m) return unexpected(ConfigError::BadModelNumber);
  return from_model(*m, o);
}

}  // namespace imsm::meter
