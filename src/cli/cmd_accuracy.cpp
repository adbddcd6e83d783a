// imsmeter accuracy: a thin CLI over the accuracy library (sim/accuracy_matrix.h,
// sim/c12_tests.h): the matrix and the named C12.1 / C12.20 style tests run through the meter
// in sample mode against the exact integral of v*i (sim/exact_energy.h).
// research/metrology.md 1, 6; SPEC "Accuracy class"; guide 1 (+/-0.5 % PF 1, +/-0.75 % PF 0.5).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "sim/accuracy_matrix.h"
#include "sim/c12_tests.h"

namespace imsm::cli {

namespace {

struct AccuracyOptions {
  std::vector<std::string> models;
  std::string format = "table";
  std::string suite = "all";
  std::string limits;  // default: fidelity, or 0.5 with an error in the meter
  bool error_model = false;
  std::optional<double> inject_gain_ppm;
  std::optional<double> inject_phase_deg;
  std::optional<double> seconds;
  std::optional<double> creep_seconds;
  double rate_hz = 4000.0;
  std::uint64_t seed = 1;
  std::optional<int> adc_bits;
  std::optional<double> hpf_hz;
  std::optional<double> skew_s;  // microseconds, as given
  bool no_skew_compensation = false;
};

// Rounded to `decimals` for people; a value that rounds to zero prints without a sign.
std::string fixed(double x, int decimals) {
  const double scale = std::pow(10.0, decimals);
  if (std::round(std::fabs(x) * scale) == 0) x = 0;
  return fmt::format("{:.{}f}", x, decimals);
}

double json_number(double x) {
  return x == 0 ? 0.0 : x;
}  // no -0 in JSON

nlohmann::ordered_json to_json(const sim::AccuracyPoint& p) {
  nlohmann::ordered_json j;
  j["case"] = p.kase;
  j["model"] = p.model;
  j["service"] = p.service;
  j["voltage_v"] = p.voltage_v;
  j["high_leg_v"] = p.high_leg_v ? nlohmann::ordered_json(*p.high_leg_v) : nullptr;
  j["current_percent"] = p.current_percent;
  j["pf"] = p.pf;
  j["pf_sense"] = p.pf_sense;
  j["frequency_hz"] = p.frequency_hz;
  j["window_s"] = p.window_s;
  j["start_deg"] = p.start_deg;
  j["ct_sets"] = p.ct_sets;
  j["core"] = p.core;
  j["expected_wh"] = p.expected_wh;
  j["registered_wh"] = p.registered_wh;
  j["error_ppm"] = json_number(p.error_ppm);
  j["limit_ppm"] = p.limit_ppm;
  j["pass"] = p.pass;
  return j;
}

nlohmann::ordered_json to_json(const sim::NamedTest& t) {
  return {{"test", t.name},
          {"model", t.model},
          {"service", t.service},
          {"condition", t.condition},
          {"measured", json_number(t.measured)},
          {"unit", t.unit},
          {"limit", t.limit},
          {"pass", t.pass}};
}

void print_points(const std::vector<sim::AccuracyPoint>& pts) {
  std::cout << fmt::format(
      "{:<13} {:<20} {:>7} {:>7} {:>6} {:>5} {:>6} {:>7} {:>14} {:>14} {:>10} "
      "{:>7} {}\n",
      "case", "service", "V", "I %", "PF", "", "Hz", "window", "expected Wh", "registered Wh",
      "err ppm", "limit", "");
  for (const auto& p : pts) {
    std::cout << fmt::format(
        "{:<13} {:<20} {:>7.1f} {:>7.1f} {:>6.3f} {:>5} {:>6.2f} {:>7.4f} {:>14.6f} {:>14.6f} "
        "{:>10} {:>7.0f} {}\n",
        p.kase, p.service, p.high_leg_v ? *p.high_leg_v : p.voltage_v, p.current_percent, p.pf,
        p.pf_sense, p.frequency_hz, p.window_s, p.expected_wh, p.registered_wh,
        fixed(p.error_ppm, 3), p.limit_ppm, p.pass ? "ok" : "FAIL");
  }
}

void print_named(const std::vector<sim::NamedTest>& tests) {
  std::cout << fmt::format("{:<20} {:<20} {:<52} {:>12} {:>10} {:>8} {}\n", "test", "service",
                           "condition", "measured", "unit", "limit", "");
  for (const auto& t : tests) {
    std::cout << fmt::format("{:<20} {:<20} {:<52} {:>12} {:>10} {:>8g} {}\n", t.name, t.service,
                             t.condition, fixed(t.measured, 4), t.unit, t.limit,
                             t.pass ? "ok" : "FAIL");
  }
}

sim::AccuracyClass limits_of(const AccuracyOptions& o, bool meter_has_error) {
  if (o.limits.empty())
    return meter_has_error ? sim::AccuracyClass::Class05 : sim::AccuracyClass::Fidelity;
  auto c = sim::accuracy_class_from(o.limits);
  if (!c)
    throw UsageError("accuracy: --class must be fidelity, 0.5 or 0.2, not '" + o.limits + "'");
  return *c;
}

sim::MatrixOptions matrix_options(const AccuracyOptions& o) {
  if (o.format != "json" && o.format != "table")
    throw UsageError("accuracy: --format must be table or json, not '" + o.format + "'");
  if (o.suite != "all" && o.suite != "matrix" && o.suite != "c12")
    throw UsageError("accuracy: --suite must be all, matrix or c12, not '" + o.suite + "'");
  if (o.seconds && !(*o.seconds > 0 && *o.seconds <= 3600))
    throw UsageError("accuracy: --seconds must be in (0, 3600]");
  if (o.creep_seconds && !(*o.creep_seconds > 0 && *o.creep_seconds <= 86400))
    throw UsageError("accuracy: --creep-seconds must be in (0, 86400]");
  if (!(o.rate_hz >= 2000 && o.rate_hz <= 1e6))
    throw UsageError("accuracy: --rate must be in [2000, 1e6] Hz");
  sim::MatrixOptions m;
  m.models = o.models;
  for (const auto& model : o.models) {
    auto mc = sim::parse_accuracy_model(model);
    if (!mc) throw UsageError("accuracy: " + mc.error());
  }
  m.seeded_error_model = o.error_model;
  if (o.inject_gain_ppm || o.inject_phase_deg) {
    if (o.error_model)
      throw UsageError("accuracy: --error-model and --inject-* exclude each other");
    m.inject = sim::ErrorInjection{o.inject_gain_ppm.value_or(0), o.inject_phase_deg.value_or(0)};
    if (std::fabs(m.inject->gain_ppm) > 1e5 || std::fabs(m.inject->phase_deg) > 10)
      throw UsageError("accuracy: --inject-gain-ppm must be within 1e5 and --inject-phase-deg 10");
  }
  m.limits = limits_of(o, o.error_model || m.inject.has_value());
  m.rate_hz = o.rate_hz;
  m.front_end = sim::default_accuracy_front_end(o.rate_hz);
  if (o.adc_bits) m.front_end.adc_bits = *o.adc_bits;
  if (o.hpf_hz) m.front_end.hpf_hz = *o.hpf_hz;
  if (o.skew_s) m.front_end.current_skew_s = *o.skew_s * 1e-6;
  m.front_end.skew_compensation = !o.no_skew_compensation;
  if (m.front_end.adc_bits != 0 && (m.front_end.adc_bits < 8 || m.front_end.adc_bits > 32))
    throw UsageError("accuracy: --adc-bits must be 0 (ideal) or 8..32");
  if (!(m.front_end.hpf_hz >= 0 && m.front_end.hpf_hz <= 5))
    throw UsageError("accuracy: --hpf-hz must be in [0, 5]");
  if (!(m.front_end.current_skew_s >= 0 && m.front_end.current_skew_s < 1 / o.rate_hz))
    throw UsageError("accuracy: --skew-us must be in [0, one sample period)");
  m.seconds = o.seconds;
  m.seed = o.seed;
  return m;
}

int run_accuracy(const AccuracyOptions& o) {
  const sim::MatrixOptions m = matrix_options(o);
  std::vector<sim::AccuracyPoint> points;
  std::vector<sim::NamedTest> named;
  if (o.suite != "c12") {
    auto r = sim::run_accuracy_matrix(m);
    if (!r) throw UsageError("accuracy: " + r.error());
    points = std::move(*r);
  }
  if (o.suite != "matrix") {
    sim::C12Options c;
    c.base = m;
    c.limits = o.limits.empty() ? sim::AccuracyClass::Class05 : m.limits;
    if (c.limits == sim::AccuracyClass::Fidelity) c.limits = sim::AccuracyClass::Class05;
    c.creep_seconds = o.creep_seconds;
    auto r = sim::run_c12_tests(c);
    if (!r) throw UsageError("accuracy: " + r.error());
    named = std::move(*r);
  }
  std::size_t core = 0, failed = 0;
  for (const auto& p : points) {
    core += p.core ? 1 : 0;
    failed += p.pass ? 0 : 1;
  }
  for (const auto& t : named) failed += t.pass ? 0 : 1;
  const bool pass = failed == 0;
  if (o.format == "json") {
    nlohmann::ordered_json j;
    j["pass"] = pass;
    j["error_model"] = o.error_model;
    j["limits"] = sim::to_string(m.limits);
    j["sample_rate_hz"] = o.rate_hz;
    j["core_points"] = core;
    j["failed"] = failed;
    j["points"] = nlohmann::ordered_json::array();
    for (const auto& p : points) j["points"].push_back(to_json(p));
    j["named_tests"] = nlohmann::ordered_json::array();
    for (const auto& t : named) j["named_tests"].push_back(to_json(t));
    std::cout << j.dump() << "\n";
  } else {
    if (!points.empty()) print_points(points);
    if (!named.empty()) print_named(named);
    std::cout << fmt::format("{} points ({} core), {} named tests, {} failed: {}\n", points.size(),
                             core, named.size(), failed, pass ? "PASS" : "FAIL");
  }
  return pass ? kExitOk : kExitRuntime;
}

}  // namespace

Runner setup_accuracy(CLI::App& app) {
  auto opt = std::make_shared<AccuracyOptions>();
  CLI::App* sub = app.add_subcommand(
      "accuracy",
      "Run the accuracy matrix and the named C12.1/C12.20-style tests through the meter "
      "(sample mode) against the exact integral of v*i");
  sub->add_option("--model", opt->models,
                  "Model number to test (repeatable; default: the nine service/voltage "
                  "combinations)");
  sub->add_option("--format", opt->format, "Output: table (default) or json");
  sub->add_option("--suite", opt->suite,
                  "all (default), matrix (the point matrix) or c12 (the named tests: "
                  "starting load, no-load creep, load performance, PF, voltage and frequency "
                  "variation)");
  sub->add_option("--class", opt->limits,
                  "Limits: fidelity (the emulator's own error: 50 ppm, 200 ppm below 1 %, 100 "
                  "ppm with harmonics), 0.5 or 0.2. Default: fidelity, or 0.5 when the meter "
                  "has an error model; the named tests use 0.5 unless 0.2 is asked for");
  sub->add_flag("--error-model", opt->error_model,
                "Give every meter its seeded class-error model (guide: +/-0.5 % PF 1, +/-0.75 % "
                "PF 0.5)");
  sub->add_option("--inject-gain-ppm", opt->inject_gain_ppm,
                  "Inject a gain error into every element (negative test), ppm");
  sub->add_option("--inject-phase-deg", opt->inject_phase_deg,
                  "Inject a current-channel phase lead into every element, degrees");
  sub->add_option("--seconds", opt->seconds,
                  "Window of every point in seconds (default: seeded per point in [0.5, 1.5), "
                  "never whole cycles)");
  sub->add_option("--creep-seconds", opt->creep_seconds,
                  "Duration of the no-load test (default: the IEC 62053-22 time per meter)");
  sub->add_option("--rate", opt->rate_hz, "Sample rate in Hz (default 4000, at least 2000)");
  sub->add_option("--seed", opt->seed, "Seed of windows, start angles and error models");
  sub->add_option("--adc-bits", opt->adc_bits,
                  "ADC resolution of both channels (default 24; 0 = ideal)");
  sub->add_option("--hpf-hz", opt->hpf_hz,
                  "DC-blocking high-pass corner on both channels (default 0.02 Hz; 0 = off)");
  sub->add_option("--skew-us", opt->skew_s,
                  "Current channel sampled this long after the voltage, microseconds (default a "
                  "third of a sample period)");
  sub->add_flag("--no-skew-compensation", opt->no_skew_compensation,
                "Do not re-align the current channel (shows what the skew costs)");
  sub->footer(
      "Exit codes: 0 every point and test within its limit, 1 one failed, 2 bad "
      "arguments.");
  return [opt] { return run_accuracy(*opt); };
}

}  // namespace imsm::cli
