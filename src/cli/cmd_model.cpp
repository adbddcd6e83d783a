// imsmeter model NUMBER [--format json|text]: what a model number means (guide 2.1).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "protocol/model_number.h"

namespace imsm::cli {

namespace {

struct ModelOptions {
  std::string number;
  std::string format = "json";
};

nlohmann::ordered_json to_json(const protocol::ModelConfig& m) {
  nlohmann::ordered_json j;
  j["format"] = m.format == protocol::ModelFormat::Old ? "old" : "new";
  j["series"] = m.series;
  j["service"] = protocol::to_string(m.service);
  j["elements"] = m.elements;
  j["nominal_voltage"] = protocol::to_string(m.nominal_voltage);
  j["ct_primary_a"] = m.ct_primary_a;
  j["ct_secondary_a"] = m.ct_secondary_ma == 200 ? 0.2 : 0.1;
  j["ct_type"] = m.ct_type ? nlohmann::ordered_json(protocol::to_string(*m.ct_type)) : nullptr;
  j["enclosure"] = m.enclosure ? nlohmann::ordered_json(std::string(1, *m.enclosure)) : nullptr;
  j["capacity"] = m.capacity ? nlohmann::ordered_json(*m.capacity) : nullptr;
  j["installed"] = m.installed ? nlohmann::ordered_json(*m.installed) : nullptr;
  j["demand"] = m.demand ? nlohmann::ordered_json(*m.demand) : nullptr;
  j["three_phase_feed"] = m.three_phase_feed;
  return j;
}

// Guide 2.1 (Figure 4), item 3.
const char* enclosure_name(char letter) {
  switch (letter) {
    case 'X':
      return "extra large";
    case 'L':
      return "large";
    case 'M':
      return "medium";
    case 'S':
      return "small outdoor";
    case 'R':
      return "small outdoor with clear lid";
    case 'N':
      return "indoor surface mount";
    default:
      return "unknown";
  }
}

const char* service_name(protocol::Service s) {
  switch (s) {
    case protocol::Service::OnePhase2W:
      return "1-phase 2-wire";
    case protocol::Service::OnePhase3W:
      return "1- or 2-phase 3-wire";
    case protocol::Service::ThreePhaseWye:
      return "3-phase 4-wire wye";
    case protocol::Service::ThreePhaseDelta:
      return "3-phase 4-wire grounded delta (L3 high leg)";
  }
  return "unknown";
}

// One sentence to check a nameplate with (guide 2.1), e.g. "Series 2000 (new format),
// 3-phase 4-wire wye 277/480 V, CT 400:0.1 (041), indoor surface mount enclosure (N), 1 of 1
// meters, demand option".
std::string to_sentence(const protocol::ModelConfig& m) {
  const bool fifth = m.ct_secondary_ma == 200;
  std::string s =
      fmt::format("Series {} ({} format), {} {} V, CT {}:{}", m.series,
                  m.format == protocol::ModelFormat::Old ? "old" : "new", service_name(m.service),
                  protocol::to_string(m.nominal_voltage), m.ct_primary_a, fifth ? "0.2" : "0.1");
  if (m.format == protocol::ModelFormat::New)
    s += fmt::format(" ({:02}{})", m.ct_primary_a / 100, fifth ? 2 : 1);
  if (m.ct_type)
    s += *m.ct_type == protocol::CtType::Split ? ", split-core CTs (SP)" : ", solid-core CTs (SO)";
  if (m.enclosure)
    s += fmt::format(", {} enclosure ({})", enclosure_name(*m.enclosure), *m.enclosure);
  if (m.capacity && m.installed) s += fmt::format(", {} of {} meters", *m.installed, *m.capacity);
  if (!m.demand)
    s += ", demand option not stated by the old format";
  else
    s += *m.demand            ? ", demand option"
         : m.three_phase_feed ? ", 3-phase feed option"
                              : ", no options";
  return s;
}

int run_model(const ModelOptions& o) {
  if (o.format != "json" && o.format != "text")
    throw UsageError("model: --format must be json or text, not '" + o.format + "'");
  auto parsed = protocol::parse_model_number(o.number);
  if (!parsed) {
    const auto& e = parsed.error();
    throw UsageError(
        fmt::format("model: invalid model number '{}': bad {} at position {}: expected {}",
                    o.number, protocol::to_string(e.field), e.position, e.expected));
  }
  const auto j = to_json(*parsed);
  if (o.format == "json") {
    std::cout << j.dump() << "\n";
    return kExitOk;
  }
  std::cout << to_sentence(*parsed) << "\n";
  return kExitOk;
}

}  // namespace

Runner setup_model(CLI::App& app) {
  auto opt = std::make_shared<ModelOptions>();
  CLI::App* sub = app.add_subcommand("model", "Show the configuration a model number means");
  sub->add_option("number", opt->number,
                  "Model number, old (BL3-240-200-PKG-SP) or new (S2-480-N-01-01-041-01)")
      ->required();
  sub->add_option("--format", opt->format,
                  "Output: json (default) or text (one sentence to check a nameplate with)");
  sub->footer("Exit codes: 0 valid, 2 invalid model number (the message names the field).");
  return [opt] { return run_model(*opt); };
}

}  // namespace imsm::cli
