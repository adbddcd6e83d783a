// imsmeter simulate: fleets of emulated meters on virtual RS485 buses (docs/simulate.md).
//   imsmeter simulate --config FILE --duration DUR --out file:PATH --truth PATH --speed max
//   imsmeter simulate --meters 32 --model S2-480-N-01-01-041-01 --out pty
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "sim/duration.h"
#include "sim/fleet.h"
#include "sim/fleet_config.h"
#include "sim/runner.h"
#include "sim/simple_fleet.h"

namespace imsm::cli {

namespace {

struct SimulateOptions {
  std::string config;
  int meters = 0;
  std::string model;
  std::string duration;
  std::vector<std::string> out;
  std::string truth;
  std::string speed;
  std::optional<std::uint64_t> seed;
  std::string load_resolution;
  std::optional<double> bit_error_rate;
  double drain_s = 10.0;
  bool quiet = false;
  bool no_progress = false;
  std::optional<int> trace_id;  // --trace METER_ID
  std::string trace_file = "-";
};

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: sleeps and polls wake up
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

std::string seconds_text(std::int64_t ns) {
  return fmt::format("{:.3f}", static_cast<double>(ns) / 1e9);
}

// Files named on the command line: one that cannot be read or written is a runtime failure
// (exit 1, SPEC "Exit codes"), found before a single simulated second.
void check_files(const SimulateOptions& o) {
  if (!o.config.empty() && ::access(o.config.c_str(), R_OK) != 0)
    throw RuntimeError("simulate: --config " + o.config + ": " + std::strerror(errno));
  if (!o.truth.empty()) {
    const int fd = ::open(o.truth.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw RuntimeError("simulate: --truth " + o.truth + ": " + std::strerror(errno));
    ::close(fd);
  }
}

// Nothing to write to is refused. Live outputs at --speed max carry the bytes (a round trip
// works) but not the bus timing: the reader's buffers merge the bursts, every frame looks
// shared, and a collector rejects them all. Said loudly, with what to use instead.
void check_outputs(const SimulateOptions& o, const std::vector<sim::OutputSpec>& outputs,
                   const std::optional<double>& speed) {
  if (outputs.empty() && o.truth.empty() && !o.trace_id)
    throw UsageError(
        "simulate: no --out, --truth or --trace: the simulation would be thrown away; give --out "
        "file:PATH, stdout, pty, serial:DEVICE or tcp-listen:HOST:PORT");
  if (speed) return;
  for (const auto& s : outputs) {
    if (s.kind == sim::OutputKind::File || s.kind == sim::OutputKind::Stdout) continue;
    std::fprintf(stderr,
                 "simulate: warning: --speed max into a live output (pty, serial, tcp-listen) "
                 "keeps the bytes but not the bus timing: a collector reading it will reject "
                 "the frames. To collect, use --speed N (e.g. 60) with 'imsmeter collect "
                 "--clock-scale N', or --out file:PATH (timed by PATH.times).\n");
    return;
  }
}

// --trace METER_ID: that meter's timeline as JSON Lines (sim/meter_timeline.h), bus time.
std::shared_ptr<std::FILE> open_trace(const SimulateOptions& o, sim::Fleet& fleet) {
  if (!o.trace_id) return nullptr;
  if (*o.trace_id < 0 || *o.trace_id > 65535)
    throw UsageError("simulate: --trace must be a meter ID 0..65535");
  std::shared_ptr<std::FILE> f;
  if (o.trace_file == "-") {
    f = std::shared_ptr<std::FILE>(stdout, [](std::FILE*) {});
  } else {
    f = std::shared_ptr<std::FILE>(std::fopen(o.trace_file.c_str(), "w"), [](std::FILE* p) {
      if (p != nullptr) std::fclose(p);
    });
    if (!f) throw RuntimeError("simulate: cannot write --trace-file " + o.trace_file);
  }
  const bool found =
      fleet.trace(static_cast<std::uint16_t>(*o.trace_id), [f](const sim::TimelineEvent& e) {
        std::fputs((sim::to_json_line(e) + "\n").c_str(), f.get());
      });
  if (!found) throw UsageError(fmt::format("simulate: --trace {}: no such meter", *o.trace_id));
  return f;
}

int run_simulate(const SimulateOptions& o) {
  check_files(o);
  const bool simple = o.meters > 0 || !o.model.empty();
  if (simple && !o.config.empty())
    throw UsageError("simulate: give either --config or --meters/--model, not both");
  if (!simple && o.config.empty())
    throw UsageError("simulate: give --config FILE, or --meters N --model MODEL");
  if (simple && (o.meters <= 0 || o.model.empty()))
    throw UsageError("simulate: simple mode needs both --meters N (1..65536) and --model MODEL");

  std::optional<double> speed;
  if (o.speed.empty()) {
    // Default: real time when bytes go somewhere live, as fast as possible into files.
    bool live = false;
    for (const auto& s : o.out) {
      auto spec = sim::parse_output_spec(s);
      if (spec && spec->kind != sim::OutputKind::File) live = true;
    }
    if (live) speed = 1.0;
  } else if (o.speed != "max") {
    char* end = nullptr;
    const double v = std::strtod(o.speed.c_str(), &end);
    if (end != o.speed.c_str() + o.speed.size() || !(v > 0.0) || v > 1e9)
      throw UsageError(
          "simulate: --speed must be a positive number (times real time) or max, not '" + o.speed +
          "'");
    speed = v;
  }

  std::int64_t duration_ns = 0;
  if (o.duration.empty()) {
    if (!speed) throw UsageError("simulate: --speed max needs --duration (e.g. 90s, 15m, 24h, 7d)");
    duration_ns = 100LL * 365 * 86400 * sim::kNsPerSecond;  // until SIGINT/SIGTERM
  } else {
    auto d = sim::parse_duration_ns(o.duration);
    if (!d || *d == 0)
      throw UsageError("simulate: --duration '" + o.duration +
                       "': expected a positive duration like 90s, 15m, 24h or 7d");
    duration_ns = *d;
  }

  std::vector<sim::OutputSpec> outputs;
  for (const auto& s : o.out) {
    auto spec = sim::parse_output_spec(s);
    if (!spec) throw UsageError("simulate: --out " + spec.error());
    outputs.push_back(*spec);
  }
  check_outputs(o, outputs, speed);
  bool stdout_taken = false;
  for (const auto& s : outputs) stdout_taken |= s.kind == sim::OutputKind::Stdout;
  const bool trace_stdout = o.trace_id && o.trace_file == "-";
  if (trace_stdout && stdout_taken)
    throw UsageError("simulate: --trace to stdout and --out stdout cannot share it");
  std::FILE* info = stdout_taken || trace_stdout ? stderr : stdout;

  std::uint64_t seed = 0;
  sim::FleetConfig cfg;
  try {
    if (simple) {
      seed = o.seed ? *o.seed : std::random_device{}();
      sim::SimpleFleetOptions so;
      so.meters = o.meters;
      so.model = o.model;
      so.bit_error_rate = o.bit_error_rate.value_or(0.0);
      cfg = sim::make_simple_fleet(so, seed);
    } else {
      cfg = sim::load_fleet_config(o.config);
      seed = o.seed ? *o.seed : cfg.seed ? *cfg.seed : std::random_device{}();
      if (o.bit_error_rate)
        for (auto& b : cfg.buses) b.bit_error_rate = *o.bit_error_rate;
    }
  } catch (const sim::ConfigError& e) {
    throw UsageError(std::string("simulate: ") + e.what());
  }
  if (o.bit_error_rate && !(*o.bit_error_rate >= 0.0 && *o.bit_error_rate <= 0.5))
    throw UsageError("simulate: --bit-error-rate must be between 0 and 0.5");
  if (!o.load_resolution.empty()) {
    auto r = sim::parse_duration_ns(o.load_resolution);
    if (!r || *r < sim::kNsPerSecond || *r > 3600 * sim::kNsPerSecond)
      throw UsageError("simulate: --load-resolution must be between 1s and 1h");
    cfg.load_resolution_ns = *r;
  }
  if (!(o.drain_s >= 0.0 && o.drain_s <= 3600.0))
    throw UsageError("simulate: --drain must be between 0 and 3600 seconds");

  std::unique_ptr<sim::Fleet> fleet;
  try {
    fleet = std::make_unique<sim::Fleet>(cfg, seed);
  } catch (const sim::ConfigError& e) {
    throw UsageError(std::string("simulate: ") + e.what());
  }

  std::fprintf(info, "seed %llu\n", static_cast<unsigned long long>(seed));
  if (simple && !o.quiet) {
    for (std::size_t i = 0; i < fleet->meter_count(); ++i) {
      const auto& mi = fleet->info(i);
      const auto& spec = cfg.meters[i];
      std::fprintf(info,
                   "meter %u bus %s model %s load %s current_a %.1f pf %.3f power_up_s %s "
                   "drift_ppm %.2f\n",
                   mi.id, cfg.buses[mi.bus_index].name.c_str(), mi.model.c_str(),
                   sim::to_string(mi.load), spec.load.current_a[0], spec.load.pf,
                   seconds_text(mi.power_up_ns).c_str(), mi.drift_ppm);
    }
  }

  const auto trace = open_trace(o, *fleet);

  sim::RunOptions ro;
  ro.duration_ns = duration_ns;
  ro.speed = speed;
  ro.outputs = outputs;
  ro.truth_path = o.truth;
  ro.drain_timeout_s = o.drain_s;
  ro.info = info;
  ro.progress = !o.no_progress && ::isatty(STDERR_FILENO) && speed != std::optional<double>(1.0);

  install_signal_handlers();
  sim::RunReport rep;
  try {
    rep = sim::run_fleet(*fleet, ro, g_stop);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("simulate: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw RuntimeError(std::string("simulate: ") + e.what());
  }

  const double sim_s = static_cast<double>(rep.simulated_ns) / 1e9;
  std::fprintf(
      stderr, "simulate: %zu meters, %.0f s simulated in %.3f s wall (%.0f meter-seconds/s)%s\n",
      fleet->meter_count(), sim_s, rep.wall_s,
      rep.wall_s > 0 ? static_cast<double>(fleet->meter_count()) * sim_s / rep.wall_s : 0.0,
      rep.interrupted ? ", interrupted" : "");
  for (std::size_t b = 0; b < fleet->bus_count(); ++b) {
    const auto& st = fleet->bus(b).stats();
    std::fprintf(stderr,
                 "simulate: bus %s: %llu frames, %llu collided, %llu noisy, %llu bytes, %llu bits "
                 "flipped, %llu bytes dropped, %llu garbage bursts\n",
                 cfg.buses[b].name.c_str(), static_cast<unsigned long long>(st.frames),
                 static_cast<unsigned long long>(st.frames_collided),
                 static_cast<unsigned long long>(st.frames_noisy),
                 static_cast<unsigned long long>(st.bytes),
                 static_cast<unsigned long long>(st.bits_flipped),
                 static_cast<unsigned long long>(st.bytes_dropped),
                 static_cast<unsigned long long>(st.garbage_bursts));
  }
  if (rep.bytes_lost > 0)
    std::fprintf(stderr, "simulate: %llu bytes lost by real-time outputs nobody was reading\n",
                 static_cast<unsigned long long>(rep.bytes_lost));
  return kExitOk;
}

}  // namespace

Runner setup_simulate(CLI::App& app) {
  auto opt = std::make_shared<SimulateOptions>();
  CLI::App* sub = app.add_subcommand(
      "simulate", "Simulate fleets of meters on virtual RS485 buses (docs/simulate.md)");
  sub->add_option("--config", opt->config, "Fleet configuration (TOML)");
  sub->add_option("--meters", opt->meters,
                  "Simple mode: this many meters with random IDs and loads");
  sub->add_option("--model", opt->model, "Simple mode: the model number of every meter");
  sub->add_option("--duration", opt->duration,
                  "Simulated time: 90s, 15m, 24h, 7d (default: until SIGINT/SIGTERM; required "
                  "with --speed max)");
  sub->add_option("--out", opt->out,
                  "Output, repeatable: file:PATH (with PATH.times), stdout, pty, serial:DEVICE, "
                  "tcp-listen:HOST:PORT; prefix BUS= to pick a bus");
  sub->add_option("--truth", opt->truth, "Ground truth: JSON Lines, one per transmitted frame");
  sub->add_option("--trace", opt->trace_id,
                  "Follow one meter's faces: pulse edges, LEDs, LCD, key, power and frames as "
                  "JSON Lines (bus time)");
  sub->add_option("--trace-file", opt->trace_file, "Where --trace writes (default - : stdout)");
  sub->add_option("--speed", opt->speed,
                  "N times real time, or max (default: 1 with live outputs, max for files)");
  sub->add_option("--seed", opt->seed, "Seed (overrides the configuration's)");
  sub->add_option(
      "--load-resolution", opt->load_resolution,
      "One meter step per this interval (default 60s or the config's load_resolution_s)");
  sub->add_option("--bit-error-rate", opt->bit_error_rate, "Line noise on every bus (0..0.5)");
  sub->add_option("--drain", opt->drain_s,
                  "At the end, wait up to this many seconds for readers of pty/tcp outputs "
                  "(default 10)");
  sub->add_flag("--quiet", opt->quiet, "Simple mode: do not list the meters");
  sub->add_flag("--no-progress", opt->no_progress, "No progress bar, even on a terminal");
  sub->footer(
      "Announces each live output on stdout (stderr when an output is stdout): 'pty BUS PATH', "
      "'tcp-listen BUS HOST:PORT'.\nExit codes: 0 done (also after SIGINT/SIGTERM), 1 an output "
      "failed, 2 bad arguments or configuration.");
  return [opt] { return run_simulate(*opt); };
}

}  // namespace imsm::cli
