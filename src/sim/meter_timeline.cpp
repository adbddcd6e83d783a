#include "sim/meter_timeline.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/hex.h"

namespace imsm::sim {

const char* to_string(TimelineEvent::Kind k) {
  switch (k) {
    case TimelineEvent::Kind::Power:
      return "power";
    case TimelineEvent::Kind::Display:
      return "display";
    case TimelineEvent::Kind::Pulse:
      return "pulse";
    case TimelineEvent::Kind::Led:
      return "led";
    case TimelineEvent::Kind::Key:
      return "key";
    case TimelineEvent::Kind::Frame:
      return "frame";
  }
  return "?";
}

namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string to_json_line(const TimelineEvent& e) {
  std::string j = fmt::format("{{\"t_ns\":{},\"event\":\"{}\"", e.t_ns, to_string(e.kind));
  using K = TimelineEvent::Kind;
  switch (e.kind) {
    case K::Power:
      j += fmt::format(",\"on\":{}", e.on);
      break;
    case K::Display:
      j += fmt::format(",\"mode\":{},\"text\":{}", quoted(e.name), quoted(e.text));
      break;
    case K::Pulse:
      j += fmt::format(",\"output\":{},\"on\":{},\"pulses\":{}", quoted(e.name), e.on, e.count);
      break;
    case K::Led:
      j += fmt::format(",\"led\":{},\"on\":{}", quoted(e.name), e.on);
      break;
    case K::Key:
      j += fmt::format(",\"position\":{}", quoted(e.name));
      break;
    case K::Frame:
      j += fmt::format(",\"hex\":{},\"frames_sent\":{}", quoted(e.text), e.count);
      break;
  }
  return j + "}";
}

MeterTimeline::MeterTimeline(meter::Meter& m, Sink sink) : m_(m), sink_(std::move(sink)) {
  m_.set_pulse_sink(this, &MeterTimeline::on_pulse);
  const meter::PulseState p = m_.pulses();
  kh10_ = p.kh10_pulses;
  kh1000_ = p.kh1000_pulses;
}

void MeterTimeline::on_pulse(void* ctx, const meter::PulseEdge& e) {
  auto& self = *static_cast<MeterTimeline*>(ctx);
  const bool kh10 = e.output == meter::PulseOutput::Kh10;
  std::uint64_t& count = kh10 ? self.kh10_ : self.kh1000_;
  if (!e.on) ++count;  // a pulse completes when its output turns off
  self.emit({TimelineEvent::Kind::Pulse, e.time_ns, e.on, kh10 ? "kh10" : "kh1000", "", count});
  // D2 / D3 follow their outputs (guide 2.3 Table 3).
  self.emit({TimelineEvent::Kind::Led, e.time_ns, e.on, kh10 ? "D2" : "D3", "", 0});
}

void MeterTimeline::check_state(std::int64_t t_ns) {
  if (m_.powered() != powered_) {
    powered_ = m_.powered();
    emit({TimelineEvent::Kind::Power, t_ns, powered_, "", "", 0});
  }
  const bool d1 = m_.leds().d1_reverse_phase;
  if (d1 != d1_) {
    d1_ = d1;
    emit({TimelineEvent::Kind::Led, t_ns, d1, "D1", "", 0});
  }
  const meter::DisplayView v = m_.display();
  const std::string text(v.text.data());
  if (text != display_) {
    display_ = text;
    emit({TimelineEvent::Kind::Display, t_ns, false, meter::to_string(v.mode), display_, 0});
  }
}

void MeterTimeline::input_changed() {
  check_state(m_.now_ns());
}

void MeterTimeline::step(std::int64_t dt_ns) {
  const std::int64_t end = m_.now_ns() + dt_ns;
  while (m_.now_ns() < end) {
    std::int64_t next = end;
    if (m_.powered()) {
      const std::int64_t since = m_.now_ns() - m_.power_up_ns();
      const std::int64_t boundary =
          m_.power_up_ns() + (since / meter::kNsPerSecond + 1) * meter::kNsPerSecond;
      next = std::min(end, boundary);
    }
    m_.step(next - m_.now_ns());
    check_state(m_.now_ns());
  }
}

void MeterTimeline::key(meter::KeyPosition p) {
  emit({TimelineEvent::Kind::Key, m_.now_ns(), false,
        p == meter::KeyPosition::Right ? "right" : "locked", "", 0});
  m_.set_key_switch(p);
  check_state(m_.now_ns());
}

void MeterTimeline::frame(const meter::TxFrame& f) {
  std::string hex;
  append_hex(hex, f.bytes.data(), f.bytes.size());
  emit({TimelineEvent::Kind::Frame, f.start_ns, false, "", hex, m_.frames_sent()});
}

}  // namespace imsm::sim
