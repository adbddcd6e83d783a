#include "meter/phasor_input.h"

namespace imsm::meter {

double service_voltage_angle_deg(const protocol::ModelConfig& m, int index) {
  using protocol::NominalVoltage;
  using protocol::Service;
  if (index == 0) return 0.0;
  switch (m.service) {
    case Service::OnePhase2W:
      return 0.0;
    case Service::OnePhase3W:
      // 120/240 split phase: L2 at 180; 120/208 and 277/480 (two legs of a wye): -120.
      return m.nominal_voltage == NominalVoltage::V120_240 ? 180.0 : -120.0;
    case Service::ThreePhaseWye:
      return index == 1 ? -120.0 : 120.0;
    case Service::ThreePhaseDelta:
      return index == 1 ? 180.0 : 90.0;  // L3 is the high leg
  }
  return 0.0;
}

PhasorInput PhasorInput::balanced(const MeterConfig& cfg, double rms_a, double lag_deg,
                                  double frequency_hz, double voltage_scale) {
  PhasorInput in;
  in.frequency_hz = frequency_hz;
  for (int k = 0; k < cfg.elements && k < kMaxLines; ++k) {
    const auto i = static_cast<std::size_t>(k);
    in.voltage[i].rms_v = cfg.nominal_v[i] * voltage_scale;
    in.voltage[i].angle_deg = service_voltage_angle_deg(cfg.model, k);
    in.current[i][0].rms_a = rms_a;
    in.current[i][0].lag_deg = lag_deg;
  }
  return in;
}

}  // namespace imsm::meter
