// Meter: one IMS Series 1000/2000 submeter, firmware-grade (SPEC "The meter"; guide 1-5).
//
// Composition of: metrology (per element P, Vrms, Irms, PF, frequency), the master energy
// register (energy_register.h), pulse outputs and LEDs, demand (demand_register.h), the LCD
// cycle (display.h), the key switch (key_switch.h), the power supply and the RS485
// transmitter. No heap allocation and no exceptions anywhere in here; the host supplies the
// clock: meter-local time is integer nanoseconds since the meter was constructed (t = 0).
// Same inputs, same outputs, byte for byte.
//
// How to drive it (the simulator's loop):
//
//   meter::MeterOptions opt;  opt.meter_id = MeterId{2578};  // + wiring, mode, error model
//   auto cfg = meter::MeterConfig::from_model_number("S2-480-N-01-01-041-01", opt);
//   meter::Meter m(*cfg);
//   m.set_transmit_sink(&bus, [](void* ctx, const meter::TxFrame& f) {
//     static_cast<Bus*>(ctx)->send(f.start_ns, f.bytes);  // byte i at start_ns + i*1.0417 ms
//   });
//   auto in = meter::PhasorInput::balanced(*cfg, 150.0 /*A*/, 25.8 /*deg lag*/);
//   m.set_input(in);                       // prepare once per load change (cheap steps after)
//   for (int s = 0; s < 60; ++s) m.step(1'000'000'000);  // 60 x 1 s, or one m.step(60 s)
//   m.set_key_switch(meter::KeyPosition::Right); m.step(300'000'000);
//   m.set_key_switch(meter::KeyPosition::Locked);  // a reset if peak demand is on the LCD
//   in.voltage = {};  m.set_input(in);     // outage: voltages 0 -> off, registers kept
//   std::uint64_t kwh = m.total_kwh();  auto peak = m.peak_demand_counts();
//
// Instead of the sink, frames may be drained from a fixed-capacity queue: pending_frames()
// then clear_frames(). Steps may have any length: subinterval ends, transmissions, display
// phases and pulse edges inside a step are placed at their exact times.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/units.h"
#include "meter/demand_register.h"
#include "meter/display.h"
#include "meter/energy_register.h"
#include "meter/key_switch.h"
#include "meter/meter_config.h"
#include "meter/phasor_input.h"
#include "protocol/frame.h"

namespace imsm::meter {

inline constexpr std::int64_t kSubintervalNs = 300LL * kNsPerSecond;  // 5 minutes
inline constexpr std::int64_t kByteTimeNs = 1'041'667;                // 10 bits at 9600 baud
inline constexpr std::size_t kTxQueueCapacity = 16;
// Reverse-phase LED current threshold, primary amperes (guide 3.8: "more than 1 Amp").
inline constexpr double kReversePhaseMinA = 1.0;
// Sample mode: measurements (and the supply check) close every 100 ms of samples.
inline constexpr std::int64_t kSamplePeriodNs = 100'000'000;

// One transmitted frame. Byte i starts at start_ns + i * kByteTimeNs (meter-local time).
struct TxFrame {
  std::int64_t start_ns = 0;
  protocol::RawFrame bytes{};
  [[nodiscard]] std::int64_t byte_start_ns(std::size_t i) const {
    return start_ns + static_cast<std::int64_t>(i) * kByteTimeNs;
  }
};
using TxSink = void (*)(void* ctx, const TxFrame& frame);

enum class PulseOutput : std::uint8_t { Kh10, Kh1000 };
struct PulseEdge {
  std::int64_t time_ns = 0;
  PulseOutput output = PulseOutput::Kh10;
  bool on = false;  // new state
};
using PulseSink = void (*)(void* ctx, const PulseEdge& edge);

// Pulse outputs (guide 2.3 Table 3): Kh=10 on for 5 Wh, off for 5 Wh; Kh=1000 on for 500 Wh,
// off for 500 Wh. Exact functions of the energy register: state = floor(E / half) mod 2.
struct PulseState {
  bool kh10_on = false;
  bool kh1000_on = false;
  std::uint64_t kh10_pulses = 0;    // floor(E / 10 Wh): completed on/off cycles
  std::uint64_t kh1000_pulses = 0;  // floor(E / 1 kWh)
  std::uint64_t kh10_edges = 0;     // floor(E / 5 Wh): toggles since E = 0
  std::uint64_t kh1000_edges = 0;   // floor(E / 500 Wh)
};

// LEDs (guide 2.3 Table 3, 3.8). D2/D3 follow the pulse outputs; D1 (red) lights while any
// element carrying more than 1 A primary has negative active power. All dark when off.
struct LedState {
  bool d1_reverse_phase = false;
  bool d2_10wh = false;
  bool d3_1kwh = false;
};

// What the metrology measured on one element over the latest input (phasor) or the latest
// complete 100 ms (samples).
struct ElementReading {
  double v_rms = 0;
  double i_rms_a = 0;  // primary-equivalent amperes (secondary x CT ratio)
  double i_secondary_a = 0;
  double p_w = 0;           // signed active power (error model applied)
  double pf = 0;            // P / (Vrms * Irms), 0 when either is 0
  bool below_creep = true;  // Irms under the anti-creep threshold: not registered
  bool overload = false;    // Irms above rated + 10 %
};

// Everything the meter keeps, for save/restore (trivially copyable). `serialize()` gives the
// documented fixed little-endian byte form (docs/meter.md "Snapshot format").
struct MeterSnapshot {
  std::uint32_t version = 1;
  std::int64_t now_ns = 0;
  Uint128 energy_fj = 0;
  double energy_remainder_fj = 0;
  DemandRegister::State demand{};
  bool powered = false;
  std::int64_t power_up_ns = 0;
  std::int64_t subinterval_start_ns = 0;
  Uint128 subinterval_start_fj = 0;
  std::uint64_t frames_sent = 0;
};
inline constexpr std::size_t kSnapshotBytes = 192;
using SnapshotBytes = std::array<std::uint8_t, kSnapshotBytes>;

namespace detail {
// Sample-mode front-end state of one element (FrontEnd in meter_config.h): the DC-blocking
// filters of both channels and the last three current samples for skew re-alignment.
struct ElementFrontEnd {
  double v_x = 0, v_y = 0;         // voltage HPF: previous input and output
  double i_x = 0, i_y = 0;         // current HPF
  std::array<double, 3> i_hist{};  // filtered current at n-3, n-2, n-1
  int hist_n = 0;                  // valid entries in i_hist (0..3)
  double v_hold = 0;               // the first voltage sample, held until the second
  double pv = 0, pi = 0;           // previous processed samples (error model's v * di)
  bool have_prev = false;
};
}  // namespace detail

class Meter {
 public:
  explicit Meter(const MeterConfig& config);

  [[nodiscard]] const MeterConfig& config() const { return cfg_; }

  // ---- inputs --------------------------------------------------------------------------
  // Prepares a steady phasor input (computes per-element powers, the supply state and D1);
  // it holds for every following step() until the next set_input().
  void set_input(const PhasorInput& in);
  // Advances meter time by dt_ns (>= 0) with the prepared phasor input.
  void step(std::int64_t dt_ns);
  void step(const PhasorInput& in, std::int64_t dt_ns) {
    set_input(in);
    step(dt_ns);
  }
  // Advances meter time over a block of samples (count / rate seconds). Sample mode and
  // phasor mode may be mixed; the latest one defines the measurements. Returns false (and
  // does nothing) for a rate below 2 kHz.
  bool step_samples(const SampleBlock& block);
  // Sample mode registers energy at the end of each 100 ms period (and at subinterval ends);
  // this closes the open period now, e.g. before reading the register at the end of a run.
  void flush_samples();
  // The key switch moves now (at now_ns()). Ignored while the meter is off.
  void set_key_switch(KeyPosition p);

  // ---- outputs --------------------------------------------------------------------------
  void set_transmit_sink(void* ctx, TxSink sink) {
    tx_ctx_ = ctx;
    tx_sink_ = sink;
  }
  // Frames sent since the last clear_frames() when no sink is set (oldest first).
  [[nodiscard]] std::span<const TxFrame> pending_frames() const {
    return {tx_queue_.data(), tx_count_};
  }
  void clear_frames() { tx_count_ = 0; }
  [[nodiscard]] std::uint64_t frames_dropped() const { return tx_dropped_; }  // queue full
  [[nodiscard]] std::uint64_t frames_sent() const { return frames_sent_; }
  // Pulse edges with exact times (interpolated inside phasor steps). Off when null.
  void set_pulse_sink(void* ctx, PulseSink sink) {
    pulse_ctx_ = ctx;
    pulse_sink_ = sink;
  }

  // ---- state ----------------------------------------------------------------------------
  [[nodiscard]] std::int64_t now_ns() const { return now_ns_; }
  [[nodiscard]] bool powered() const { return powered_; }
  [[nodiscard]] std::int64_t power_up_ns() const { return power_up_ns_; }
  [[nodiscard]] std::int64_t next_subinterval_end_ns() const {
    return subinterval_start_ns_ + kSubintervalNs;
  }

  [[nodiscard]] Uint128 energy_fj() const { return energy_.fj(); }    // master register, fJ
  [[nodiscard]] Uint128 energy_nwh() const { return energy_.nwh(); }  // floor(fJ / 3.6e9)
  [[nodiscard]] std::uint64_t energy_wh() const { return energy_.wh(); }
  [[nodiscard]] std::uint64_t total_kwh() const { return energy_.kwh(); }  // display, 1 kWh
  [[nodiscard]] Kwh24 kwh24() const { return energy_.kwh24(); }            // on the wire
  [[nodiscard]] const EnergyRegister& energy_register() const { return energy_; }

  [[nodiscard]] const DemandRegister& demand() const { return demand_; }
  // 0 on models without the demand option.
  [[nodiscard]] DemandCounts peak_demand_counts() const;
  [[nodiscard]] ResetCounter demand_resets() const;
  [[nodiscard]] std::uint64_t inst_demand_centi_kw() const;
  [[nodiscard]] std::uint64_t peak_demand_centi_kw() const;

  [[nodiscard]] const ElementReading& element(int k) const {
    return readings_[static_cast<std::size_t>(k)];
  }
  [[nodiscard]] double frequency_hz() const { return frequency_hz_; }
  // Sample mode: energy (J) the register is ahead of the signed integral because a short
  // period (see SampleAcc) ended inside a negative ripple lobe; repaid by the next period.
  [[nodiscard]] double sample_debt_j() const { return acc_.debt_j; }
  // Registered power of the current phasor input (W) after creep, mode and error model.
  [[nodiscard]] double registered_power_w() const { return powered_ ? reg_power_w_ : 0.0; }

  [[nodiscard]] PulseState pulses() const;
  [[nodiscard]] LedState leds() const;
  [[nodiscard]] DisplayView display() const;
  // The frame the meter would send now.
  [[nodiscard]] protocol::Frame frame() const;

  // Test and commissioning hook: sets the master register (e.g. a meter installed at 16.7M kWh).
  void preset_energy_wh(std::uint64_t wh);

  [[nodiscard]] MeterSnapshot snapshot() const;
  void restore(const MeterSnapshot& s);
  [[nodiscard]] static SnapshotBytes serialize(const MeterSnapshot& s);
  [[nodiscard]] static bool deserialize(std::span<const std::uint8_t> bytes, MeterSnapshot& out);

 private:
  void power_up(std::int64_t at_ns);
  void power_down();
  void advance_powered(std::int64_t dt_ns);  // phasor path, powered
  void register_exact(Uint128 fj, std::int64_t t_start_ns, std::int64_t t_end_ns);
  void register_joules(double joules, std::int64_t t_start_ns, std::int64_t t_end_ns);
  void end_subinterval(std::int64_t at_ns);
  void transmit(std::int64_t at_ns);
  void emit_pulse_edges(Uint128 before, Uint128 after, std::int64_t t0, std::int64_t t1,
                        std::uint64_t rate_uw);
  void close_sample_period(std::int64_t at_ns);
  double detent(double net_j, bool full);
  [[nodiscard]] std::int64_t peak_window_now() const;

  MeterConfig cfg_;
  std::int64_t now_ns_ = 0;
  bool powered_ = false;
  bool input_powered_ = false;  // the latest input's supply state
  std::int64_t power_up_ns_ = 0;
  std::int64_t subinterval_start_ns_ = 0;
  Uint128 subinterval_start_fj_ = 0;

  EnergyRegister energy_;
  DemandRegister demand_;
  KeySwitch key_;

  // Prepared phasor input.
  std::uint64_t reg_power_uw_ = 0;  // registered power, integer microwatts
  double reg_power_w_ = 0;
  bool d1_ = false;
  std::array<ElementReading, kMaxElements> readings_{};
  double frequency_hz_ = 0;

  // Sample-mode accumulators of the open 100 ms period.
  struct SampleAcc {
    std::array<double, kMaxElements> sum_p{};
    std::array<double, kMaxElements> sum_v2{};
    std::array<double, kMaxElements> sum_i2{};
    std::array<double, kMaxElements> sum_vdi{};  // error model: sum v * di (phase shift)
    std::array<detail::ElementFrontEnd, kMaxElements> fe{};
    std::int64_t n = 0;
    std::int64_t start_ns = 0;
    // time reference of consecutive blocks at one rate
    bool ref_valid = false;
    double ref_rate_hz = 0;
    std::int64_t ref_ns = 0;
    std::uint64_t ref_samples = 0;
    std::int64_t ref_end_ns = 0;
    double rate_hz = 0;
    // frequency estimate on element 0's voltage
    double prev_v = 0;
    bool have_prev = false;
    double first_cross_ns = 0;
    double last_cross_ns = 0;
    int crossings = 0;
    // Decisions of the last full-length period, used by a shorter one (the period closed by
    // flush_samples() or cut by a subinterval end): whether each element was below creep
    // and whether the net flowed forward. Energy a short forward period owes (its net inside
    // one ripple lobe can be negative at low PF) is repaid by the next period: debt_j.
    bool have_full = false;
    std::array<bool, kMaxElements> full_below_creep{};
    bool full_forward = true;
    double debt_j = 0;
  };
  SampleAcc acc_{};

  // Transmitter.
  void* tx_ctx_ = nullptr;
  TxSink tx_sink_ = nullptr;
  std::array<TxFrame, kTxQueueCapacity> tx_queue_{};
  std::size_t tx_count_ = 0;
  std::uint64_t tx_dropped_ = 0;
  std::uint64_t frames_sent_ = 0;

  void* pulse_ctx_ = nullptr;
  PulseSink pulse_sink_ = nullptr;
};

}  // namespace imsm::meter
