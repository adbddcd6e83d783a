// MeterTimeline: what a person watching one meter sees, as timed events (issue 13 item 4):
// pulse-output edges (Kh=10, Kh=1000), LED changes (D1 reverse phase, D2, D3), LCD changes,
// key-switch moves, power changes and transmitted frames. It drives the meter's step() for
// its owner, splitting steps at the whole seconds after power-up where the LCD cycle can
// change (guide 2.4: every phase of both cycles is a whole number of seconds), and takes the
// pulse edges at their exact times from the meter's pulse sink. Used by `imsmeter meter`
// and by `imsmeter simulate --trace`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "meter/meter.h"

namespace imsm::sim {

struct TimelineEvent {
  enum class Kind { Power, Display, Pulse, Led, Key, Frame };
  Kind kind = Kind::Display;
  std::int64_t t_ns = 0;    // meter-local time (the owner converts, e.g. to bus time)
  bool on = false;          // Power, Pulse, Led
  std::string name;         // Pulse: kh10 | kh1000; Led: D1 | D2 | D3; Key: right | locked;
                            // Display: the mode (total_kwh, inst_demand, peak_demand, ...)
  std::string text;         // Display: the LCD text; Frame: the 12 bytes in hex
  std::uint64_t count = 0;  // Pulse: completed pulses of that output; Frame: frames sent
};

[[nodiscard]] const char* to_string(TimelineEvent::Kind k);
// One JSON object (no newline); `t_ns` is written as given.
[[nodiscard]] std::string to_json_line(const TimelineEvent& e);

class MeterTimeline {
 public:
  using Sink = std::function<void(const TimelineEvent&)>;
  // Installs itself as the meter's pulse sink (the meter must outlive it).
  MeterTimeline(meter::Meter& m, Sink sink);
  MeterTimeline(const MeterTimeline&) = delete;
  MeterTimeline& operator=(const MeterTimeline&) = delete;

  // After every set_input(): power and D1 may have changed.
  void input_changed();
  // Steps the meter by dt_ns, reporting display changes at their whole seconds.
  void step(std::int64_t dt_ns);
  // Turns the key switch now.
  void key(meter::KeyPosition p);
  // A frame the meter sent (call from the meter's transmit sink).
  void frame(const meter::TxFrame& f);

 private:
  static void on_pulse(void* ctx, const meter::PulseEdge& e);
  void check_state(std::int64_t t_ns);
  void emit(TimelineEvent e) { sink_(e); }

  meter::Meter& m_;
  Sink sink_;
  bool powered_ = false;
  bool d1_ = false;
  std::string display_;
  std::uint64_t kh10_ = 0, kh1000_ = 0;
};

}  // namespace imsm::sim
