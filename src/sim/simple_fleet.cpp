#include "sim/simple_fleet.h"

#include <fmt/format.h>

#include <set>

#include "sim/rng.h"

namespace imsm::sim {

FleetConfig make_simple_fleet(const SimpleFleetOptions& o, std::uint64_t seed) {
  if (o.meters < 1 || o.meters > 65536) throw ConfigError("--meters must be between 1 and 65536");
  auto model = protocol::parse_model_number(o.model);
  if (!model)
    throw ConfigError(fmt::format("--model '{}': bad {} field at position {}: expected {}", o.model,
                                  protocol::to_string(model.error().field), model.error().position,
                                  model.error().expected));
  FleetConfig cfg;
  cfg.source = "--meters";
  cfg.seed = seed;
  BusConfig bus;
  bus.bit_error_rate = o.bit_error_rate;
  cfg.buses.push_back(bus);
  Rng rng = Rng::derive(seed, 0x51A9, 0);
  std::set<std::uint16_t> used;
  static constexpr LoadKind kKinds[] = {LoadKind::Constant, LoadKind::Residential, LoadKind::Office,
                                        LoadKind::Retail};
  for (int i = 0; i < o.meters; ++i) {
    MeterSpec m;
    do {
      m.id = static_cast<std::uint16_t>(o.meters > 60000 ? rng.below(65536) : 1 + rng.below(65535));
    } while (used.count(m.id) && used.size() < 65536);
    used.insert(m.id);
    m.bus = bus.name;
    m.model = o.model;
    m.model_config = *model;
    m.load.kind = kKinds[rng.below(4)];
    const double frac = rng.uniform(0.1, 0.8);
    for (int e = 0; e < model->elements; ++e)
      m.load.current_a[static_cast<std::size_t>(e)] = model->ct_primary_a * frac;
    m.load.pf = rng.uniform(0.85, 1.0);
    cfg.meters.push_back(std::move(m));
  }
  return cfg;
}

}  // namespace imsm::sim
