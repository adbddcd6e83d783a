// imsmeter meter --model M [--load KIND] [--amps A] [--pf PF] [--speed N]: one meter in the
// terminal, its
// faces as a person sees them (guide 2.3-2.4, 3.7-3.8): the LCD as it cycles, LEDs D1-D3, the
// pulse counts and the frame it last sent. On a terminal a key press turns the key switch
// (right and back within 1 s; a reset counts only while peak demand shows, guide 2.4.2) and
// q quits; without a terminal it prints the same as timed lines (or JSON Lines).
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "meter/meter.h"
#include "sim/duration.h"
#include "sim/fleet_config.h"
#include "sim/load_profile.h"
#include "sim/meter_timeline.h"

namespace imsm::cli {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

struct MeterCmdOptions {
  std::string model;
  int id = 1;
  std::optional<double> amps;  // per element, primary A; default 50 % of rated
  double pf = 1.0;
  bool lead = false;
  double frequency_hz = 60.0;
  std::string speed = "1";
  std::string duration;  // meter time; default: until q (terminal) or 1 h
  std::vector<double> key_at_s;
  std::string format = "text";
  // --load: the simulator's load profiles (docs/simulate.md "Loads")
  std::string load = "constant";  // constant | residential | office | retail | csv:PATH
  double noise = 0.10;
  std::uint64_t seed = 1;
  std::string load_step = "60s";
  std::string start_at = "0s";  // where in the profile's week (day 0 = Monday) meter time 0 is
};

constexpr std::int64_t kKeyHoldNs = 300'000'000;  // right, then back 0.3 s later

// The meter, its timeline, and what the screen shows.
struct Session {
  meter::Meter m;
  std::string last_frame = "(none yet)";
  std::int64_t last_frame_ns = -1;
  sim::MeterTimeline tl;
  // A varying load (--load other than constant): sampled every load step.
  sim::LoadConfig load_cfg;
  std::unique_ptr<sim::LoadProfile> load;
  std::int64_t load_step_ns = 0;
  std::int64_t load_start_ns = 0;
  std::int64_t next_load_ns = 0;
  sim::LoadSample sample;
  // Without a terminal: the lines to print (timeline events and load changes, in order).
  bool lines = false;
  bool json = false;
  std::string out;
  explicit Session(const meter::MeterConfig& c)
      : m(c), tl(m, [this](const sim::TimelineEvent& e) { on_event(e); }) {
    m.set_transmit_sink(this, [](void* ctx, const meter::TxFrame& f) {
      auto& s = *static_cast<Session*>(ctx);
      s.tl.frame(f);
      s.last_frame.clear();
      for (std::size_t i = 0; i < f.bytes.size(); ++i)
        s.last_frame += fmt::format("{}{:02x}", i ? " " : "", f.bytes[i]);
      s.last_frame_ns = f.start_ns;
    });
  }
  void on_event(const sim::TimelineEvent& e);
  void press_key() {
    tl.key(meter::KeyPosition::Right);
    tl.step(kKeyHoldNs);
    tl.key(meter::KeyPosition::Locked);
  }
};

std::string event_text(const sim::TimelineEvent& e) {
  using K = sim::TimelineEvent::Kind;
  const std::string t = fmt::format("[{:>12.3f} s]", static_cast<double>(e.t_ns) / 1e9);
  switch (e.kind) {
    case K::Power:
      return fmt::format("{} power {}", t, e.on ? "on" : "off");
    case K::Display:
      return fmt::format("{} LCD \"{}\" ({})", t, e.text, e.name);
    case K::Pulse:
      return fmt::format("{} pulse {} {} (pulses {})", t, e.name, e.on ? "on" : "off", e.count);
    case K::Led:
      return fmt::format("{} LED {} {}", t, e.name, e.on ? "on" : "off");
    case K::Key:
      return fmt::format("{} key switch {}", t, e.name);
    case K::Frame:
      return fmt::format("{} frame {} (frame {})", t, e.text, e.count);
  }
  return t;
}

void Session::on_event(const sim::TimelineEvent& e) {
  if (lines) out += (json ? sim::to_json_line(e) : event_text(e)) + "\n";
}

std::string amps_text(const Session& s, int elements) {
  std::string a;
  for (int k = 0; k < elements; ++k)
    a += fmt::format("{}{:.2f}", k ? "/" : "", s.sample.current_a[static_cast<std::size_t>(k)]);
  return a;
}

// Where the load profile is: day of its week (day 0 a Monday) and time of day.
std::string profile_time(std::int64_t t_ns) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  const std::int64_t min = t_ns / 60'000'000'000;
  return fmt::format("{} {:02}:{:02}", kDays[(min / 1440) % 7], (min / 60) % 24, min % 60);
}

std::string load_line(const Session& s, int elements) {
  return fmt::format("Load: {}  I = {} A  PF {:.2f} {}  (profile {})",
                     sim::to_string(s.load_cfg.kind), amps_text(s, elements), s.sample.pf[0],
                     s.sample.leading ? "lead" : "lag",
                     profile_time(s.next_load_ns - s.load_step_ns + s.load_start_ns));
}

void draw(const Session& s, const MeterCmdOptions& o, double speed) {
  const meter::LedState led = s.m.leds();
  const meter::PulseState p = s.m.pulses();
  const auto lamp = [](bool on) { return on ? "(*)" : "( )"; };
  std::string out = "\x1b[H\x1b[2J";
  out += fmt::format("IMS meter {} ({})  meter time {:.1f} s  x{:g}\r\n", o.id, o.model,
                     static_cast<double>(s.m.now_ns()) / 1e9, speed);
  out +=
      fmt::format("+------------------------------+\r\n| {:<28} |\r\n", s.m.display().text.data());
  out += "+------------------------------+\r\n";
  out += fmt::format("D1 reverse phase {}   D2 10 Wh {}   D3 1 kWh {}\r\n",
                     lamp(led.d1_reverse_phase), lamp(led.d2_10wh), lamp(led.d3_1kwh));
  out += fmt::format("Pulses: 10 Wh x {}   1 kWh x {}   Demand resets: {}   Peak: {:.2f} kW\r\n",
                     p.kh10_pulses, p.kh1000_pulses, s.m.demand_resets().value,
                     static_cast<double>(s.m.peak_demand_centi_kw()) / 100);
  if (s.load) out += load_line(s, s.m.config().elements) + "\r\n";
  out += fmt::format("Last frame: {}\r\n", s.last_frame);
  out += "Any key turns the key switch (a reset counts while peak demand shows); q quits\r\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

// Raw terminal for single key presses; restored on every exit path.
class RawTerminal {
 public:
  RawTerminal() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// Reads the keys typed since the last call: 'q' quits, any other turns the key switch.
bool read_keys(Session& s, int timeout_ms) {
  pollfd pfd{STDIN_FILENO, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) <= 0) return true;
  char buf[16];
  const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  if (n == 0) return false;  // end of input
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] == 'q' || buf[i] == 'Q') return false;
    s.press_key();
  }
  return true;
}

meter::MeterConfig build_config(const MeterCmdOptions& o) {
  if (o.id < 0 || o.id > 65535) throw UsageError("meter: --id must be 0..65535");
  meter::MeterOptions mo;
  mo.meter_id = MeterId{static_cast<std::uint16_t>(o.id)};
  auto c = meter::MeterConfig::from_model_number(o.model, mo);
  if (!c) throw UsageError("meter: invalid model number '" + o.model + "' (see imsmeter model)");
  return *c;
}

meter::PhasorInput build_input(const MeterCmdOptions& o, const meter::MeterConfig& c) {
  if (!(o.pf > 0 && o.pf <= 1)) throw UsageError("meter: --pf must be in (0, 1]");
  if (!(o.frequency_hz >= 45 && o.frequency_hz <= 66))
    throw UsageError("meter: --frequency must be 45..66 Hz");
  const double amps = o.amps ? *o.amps : c.rated_primary_a / 2;
  if (!(amps >= 0 && amps <= c.max_primary_a() * 3))
    throw UsageError("meter: --amps must be 0..3 x the CT's maximum current");
  const double lag = std::acos(o.pf) * 57.29577951308232 * (o.lead ? -1 : 1);
  return meter::PhasorInput::balanced(c, amps, lag, o.frequency_hz);
}

sim::LoadKind load_kind(const std::string& name) {
  if (name == "residential") return sim::LoadKind::Residential;
  if (name == "office") return sim::LoadKind::Office;
  if (name == "retail") return sim::LoadKind::Retail;
  if (name.rfind("csv:", 0) == 0 && name.size() > 4) return sim::LoadKind::Csv;
  throw UsageError(
      "meter: --load must be constant, residential, office, retail or csv:PATH, not '" + name +
      "'");
}

std::int64_t duration_option(const std::string& name, const std::string& v, std::int64_t lo,
                             std::int64_t hi) {
  const auto d = sim::parse_duration_ns(v);
  if (!d || *d < lo || *d > hi)
    throw UsageError(fmt::format("meter: {} must be a duration from {} s to {} s, not '{}'", name,
                                 lo / meter::kNsPerSecond, hi / meter::kNsPerSecond, v));
  return *d;
}

// --load other than constant: the simulator's load profile (the shapes unshifted: one meter
// shows the published shape as it is), sampled every --load-step.
void setup_load(Session& s, const MeterCmdOptions& o, const meter::MeterConfig& c) {
  sim::LoadConfig& l = s.load_cfg;
  l.kind = load_kind(o.load);
  if (!(o.noise >= 0 && o.noise <= 1)) throw UsageError("meter: --noise must be 0..1");
  const double amps = o.amps ? *o.amps : c.rated_primary_a / 2;
  l.current_a = {amps, amps, amps};
  l.pf = o.pf;
  l.leading = o.lead;
  l.frequency_hz = o.frequency_hz;
  l.noise = o.noise;
  l.shift_habits = false;
  if (l.kind == sim::LoadKind::Csv) {
    l.csv_path = o.load.substr(4);
    try {
      l.csv_rows = sim::read_load_csv(l.csv_path, c.elements, c.nominal_v);
    } catch (const sim::ConfigError& e) {
      throw UsageError(std::string("meter: --load: ") + e.what());
    }
  }
  s.load_step_ns =
      duration_option("--load-step", o.load_step, meter::kNsPerSecond, 3600 * meter::kNsPerSecond);
  s.load_start_ns = duration_option("--start-at", o.start_at, 0, 7 * 86400 * meter::kNsPerSecond);
  s.load = std::make_unique<sim::LoadProfile>(l, c.elements, c.nominal_v, sim::Rng(o.seed),
                                              s.load_step_ns);
}

// The load's next interval: its phasors on the meter's inputs.
void apply_load(Session& s) {
  const meter::MeterConfig& c = s.m.config();
  s.sample = s.load->sample(s.next_load_ns + s.load_start_ns);
  s.next_load_ns += s.load_step_ns;
  meter::PhasorInput in;
  in.frequency_hz = s.sample.frequency_hz;
  for (int k = 0; k < c.elements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    in.voltage[ki].rms_v = s.sample.voltage_v[ki];
    in.voltage[ki].angle_deg = meter::service_voltage_angle_deg(c.model, k);
    const double lag = std::acos(std::clamp(s.sample.pf[ki], 0.0, 1.0)) * 57.29577951308232;
    in.current[ki][0].rms_a = s.sample.current_a[ki];
    in.current[ki][0].lag_deg = s.sample.leading ? -lag : lag;
  }
  s.m.set_input(in);
  s.tl.input_changed();
  if (s.lines) {
    const std::int64_t t = s.m.now_ns();
    if (s.json) {
      std::string a;
      for (int k = 0; k < c.elements; ++k)
        a += fmt::format("{}{}", k ? "," : "", s.sample.current_a[static_cast<std::size_t>(k)]);
      s.out += fmt::format("{{\"t_ns\":{},\"event\":\"load\",\"current_a\":[{}],\"pf\":{}}}\n", t,
                           a, s.sample.pf[0]);
    } else {
      s.out += fmt::format("[{:>12.3f} s] load {} A PF {:.2f}\n", static_cast<double>(t) / 1e9,
                           amps_text(s, c.elements), s.sample.pf[0]);
    }
  }
}

// Advances to meter time `target`, pressing the scripted keys and changing the load on the way.
void advance(Session& s, std::int64_t target, std::vector<std::int64_t>& keys) {
  while (s.m.now_ns() < target) {
    if (s.load && s.m.now_ns() >= s.next_load_ns) apply_load(s);
    std::int64_t next = target;
    if (s.load) next = std::min(next, s.next_load_ns);
    if (!keys.empty()) next = std::min(next, keys.front());
    if (next > s.m.now_ns()) s.tl.step(next - s.m.now_ns());
    if (!keys.empty() && s.m.now_ns() >= keys.front()) {
      keys.erase(keys.begin());
      s.press_key();
    }
  }
}

void flush_events(Session& s) {
  std::fputs(s.out.c_str(), stdout);
  s.out.clear();
  std::fflush(stdout);
}

int run_meter(const MeterCmdOptions& o) {
  if (o.format != "text" && o.format != "json")
    throw UsageError("meter: --format must be text or json, not '" + o.format + "'");
  std::optional<double> speed;  // nullopt = as fast as possible
  if (o.speed != "max") {
    try {
      speed = std::stod(o.speed);
    } catch (const std::exception&) {
      throw UsageError("meter: --speed must be a number or max, not '" + o.speed + "'");
    }
    if (!(*speed > 0 && *speed <= 1e6)) throw UsageError("meter: --speed must be in (0, 1e6]");
  }
  const bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && o.format == "text";
  std::int64_t duration_ns = tty ? INT64_MAX : 3600 * meter::kNsPerSecond;
  if (!o.duration.empty()) {
    auto d = sim::parse_duration_ns(o.duration);
    if (!d || *d <= 0) throw UsageError("meter: bad --duration '" + o.duration + "'");
    duration_ns = *d;
  }
  if (!speed && tty) throw UsageError("meter: --speed max needs a non-terminal output");
  std::vector<std::int64_t> keys;
  for (const double k : o.key_at_s) {
    if (!(k >= 0)) throw UsageError("meter: --key-at must be >= 0 seconds");
    keys.push_back(static_cast<std::int64_t>(k * 1e9));
  }
  std::sort(keys.begin(), keys.end());
  const meter::MeterConfig cfg = build_config(o);
  const meter::PhasorInput in = build_input(o, cfg);
  auto s = std::make_unique<Session>(cfg);
  s->lines = !tty;
  s->json = o.format == "json";
  if (o.load != "constant") {
    setup_load(*s, o, cfg);
    apply_load(*s);
  } else {
    s->m.set_input(in);
    s->tl.input_changed();
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::optional<RawTerminal> raw;
  if (tty) raw.emplace();
  const auto start = std::chrono::steady_clock::now();
  while (!g_stop && s->m.now_ns() < duration_ns) {
    std::int64_t target = duration_ns;
    if (speed) {
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      target = std::min(duration_ns, static_cast<std::int64_t>(wall * *speed * 1e9));
    }
    advance(*s, target, keys);
    if (tty) {
      draw(*s, o, *speed);
      if (!read_keys(*s, 50)) break;
    } else {
      flush_events(*s);
      if (speed) usleep(20'000);
    }
  }
  if (tty) std::fputs("\r\n", stdout);
  return g_stop ? 130 : kExitOk;
}

}  // namespace

Runner setup_meter(CLI::App& app) {
  auto opt = std::make_shared<MeterCmdOptions>();
  CLI::App* sub = app.add_subcommand(
      "meter", "Run one meter and show its faces: LCD cycle, LEDs D1-D3, pulse counts, frames");
  sub->add_option("--model", opt->model, "Model number (see imsmeter model)")->required();
  sub->add_option("--id", opt->id, "Meter ID sent in its frames (default 1)");
  sub->add_option("--amps", opt->amps,
                  "Current per element, primary amperes (default half the CT rating)");
  sub->add_option("--pf", opt->pf, "Power factor of the load (default 1)");
  sub->add_flag("--lead", opt->lead, "The current leads (default lags)");
  sub->add_option("--frequency", opt->frequency_hz, "Line frequency, Hz (default 60)");
  sub->add_option("--speed", opt->speed,
                  "Times real time (default 1), or max (as fast as possible, not on a terminal)");
  sub->add_option("--duration", opt->duration,
                  "Meter time to run, e.g. 90s, 20m, 1h (default: until q on a terminal, else 1h)");
  sub->add_option("--key-at", opt->key_at_s,
                  "Turn the key switch at this meter time in seconds (repeatable)");
  sub->add_option("--load", opt->load,
                  "constant (default), residential, office, retail (daily shapes, --amps the peak) "
                  "or csv:PATH (docs/simulate.md \"Loads\")");
  sub->add_option("--noise", opt->noise, "Daily shapes: relative randomness 0..1 (default 0.1)");
  sub->add_option("--seed", opt->seed, "Daily shapes: seed of the randomness (default 1)");
  sub->add_option("--load-step", opt->load_step,
                  "A new load sample every this much meter time (default 60s, 1s..1h)");
  sub->add_option("--start-at", opt->start_at,
                  "Where in the load's week meter time 0 falls, e.g. 19h, 32h (default 0: "
                  "Monday 00:00)");
  sub->add_option("--format", opt->format,
                  "Without a terminal: text (timed lines, default) or json (JSON Lines)");
  sub->footer(
      "On a terminal: the LCD, LEDs and counts redrawn live; any key turns the key switch, q "
      "quits.\nExit codes: 0 done, 2 bad arguments, 130 interrupted.");
  return [opt] { return run_meter(*opt); };
}

}  // namespace imsm::cli
