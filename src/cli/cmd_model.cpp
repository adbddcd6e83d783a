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
  for (const auto& [key, value] : j.items())
    std::cout << fmt::format("{:<17} {}\n", key,
                             value.is_string() ? value.get<std::string>() : value.dump());
  return kExitOk;
}

}  // namespace

Runner setup_model(CLI::App& app) {
  auto opt = std::make_shared<ModelOptions>();
  CLI::App* sub = app.add_subcommand("model", "Show the configuration a model number means");
  sub->add_option("number", opt->number,
                  "Model number, old (BL3-240-200-PKG-SP) or new (S2-480-N-01-01-041-01)")
      ->required();
  sub->add_option("--format", opt->format, "Output: json (default) or text");
  sub->footer("Exit codes: 0 valid, 2 invalid model number (the message names the field).");
  return [opt] { return run_model(*opt); };
}

}  // namespace imsm::cli
