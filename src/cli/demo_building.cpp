#include "cli/demo_building.h"

#include <fmt/format.h>

#include <vector>

namespace imsm::cli {

namespace {

struct DemoMeter {
  int id;
  const char* model;
  const char* load;     // load profile kind
  const char* current;  // per element, A
  const char* label;    // "" : not in the configuration (discovered on the bus)
  const char* tenant;   // "" : unassigned
  const char* tariff;
  const char* keys;    // more keys of the fleet's meter table (before its [meter.load])
  const char* tables;  // its sub-tables (wiring, outages, key presses)
};

// Models from the guide's model-number scheme (section 2.1), as in examples/demo.
const std::vector<DemoMeter> kMeters = {
    {2578, "S2-480-N-01-01-041-01", "office", "[180.0, 180.0, 180.0]", "Suite 400", "Acme Dental",
     "commercial",
     // The demand reset: the 19 s display cycle shows the peak 12-18 s in (power_up_s fixed):
     // 1800 = 94 x 19 + 14.
     "power_up_s = 0.0\ndrift_ppm = 0.0\n", "[[meter.key_press]]\nat_s = 1800.0\nhold_s = 0.4\n"},
    {2579, "S2-208-N-04-02-021-01", "retail", "[150.0, 150.0, 150.0]", "Shop A", "Corner Market",
     "commercial", "", "[meter.wiring]\nreversed = [2]\n"},
    {3100, "S2-480-N-01-01-041-01", "office", "[250.0, 250.0, 250.0]", "Suite 300", "Acme Dental",
     "commercial", "", ""},
    {3101, "S2-480-N-01-01-041-01", "office", "[120.0, 120.0, 120.0]", "Suite 301", "Bolt Legal",
     "commercial", "", ""},
    {3102, "S2-208-N-04-02-021-01", "office", "[90.0, 90.0, 90.0]", "Suite 302", "Bolt Legal",
     "commercial", "", ""},
    {202, "BL3-208-400-PKG-SO", "retail", "[220.0, 220.0]", "Shop B", "Bakery Nine", "commercial",
     "", ""},
    {203, "BL3-208-400-PKG-SO", "retail", "[140.0, 140.0]", "Shop C", "Flower Hall", "commercial",
     "", ""},
    {301, "BL-208-400-GL-PKG-SO", "constant", "[120.0, 120.0, 90.0]", "Plant room", "Building",
     "commercial", "", ""},
    {201, "S1-277-N-04-01-021-01", "constant", "[40.0]", "Corridor lights", "Building",
     "commercial", "", ""},
    {401, "S1-277-N-04-01-021-01", "constant", "[25.0]", "Roof lights", "", "", "", ""},
    {101, "S1-240-R-12-01-011-01", "residential", "[45.0, 45.0]", "Apt 101", "Apt 101",
     "residential", "", ""},
    {102, "S1-240-R-12-02-011-01", "residential", "[60.0, 60.0]", "Apt 102", "Apt 102",
     "residential", "", ""},
    {103, "S1-240-R-12-03-011-01", "residential", "[30.0, 30.0]", "Apt 103", "Apt 103",
     "residential", "", ""},
    {104, "S1-240-R-12-04-011-01", "residential", "[75.0, 75.0]", "Apt 104", "Apt 104",
     "residential",
     // Loses power 10 minutes in and stays off: silent after 3 missed cadences.
     "", "[[meter.outage]]\nfrom_s = 600.0\nto_s = 31536000.0\n"},
    {105, "S1-240-R-12-01-011-01", "residential", "[50.0, 50.0]", "Apt 105", "Apt 105",
     "residential", "", ""},
    {106, "S1-240-R-12-02-011-01", "residential", "[35.0, 35.0]", "Apt 106", "Apt 106",
     "residential", "", ""},
    {107, "S1-240-R-12-03-011-01", "residential", "[65.0, 65.0]", "Apt 107", "Apt 107",
     "residential", "", ""},
    {108, "S1-240-R-12-04-011-01", "residential", "[40.0, 40.0]", "Apt 108", "Apt 108",
     "residential", "", ""},
    {109, "S1-240-R-12-01-011-01", "residential", "[55.0, 55.0]", "Apt 109", "Apt 109",
     "residential", "", ""},
    {110, "S1-240-R-12-02-011-01", "residential", "[45.0, 45.0]", "Apt 110", "Apt 110",
     "residential", "", ""},
    {111, "S1-240-R-12-03-011-01", "residential", "[70.0, 70.0]", "Apt 111", "Apt 111",
     "residential", "", ""},
    {112, "S1-240-R-12-04-011-01", "residential", "[20.0, 20.0]", "Apt 112", "Apt 112",
     "residential", "", ""},
    {501, "S1-240-R-12-01-011-01", "residential", "[30.0, 30.0]", "", "", "", "", ""},
    {502, "S2-208-N-04-02-021-01", "office", "[60.0, 60.0, 60.0]", "", "", "", "", ""},
};

}  // namespace

DemoBuilding demo_building() {
  DemoBuilding b;
  b.fleet_toml =
      "# imsmeter demo: 24 meters on one RS485 bus (src/cli/demo_building.cpp)\n"
      "seed = 2026\nload_resolution_s = 60\n\n[[bus]]\nname = \"main\"\n"
      "bit_error_rate = 1e-7\ngarbage_per_hour = 2.0\n";
  b.collector_toml =
      "# imsmeter demo (src/cli/demo_building.cpp)\n[validation]\nconfirm_frames = 2\n"
      "cadence_s = 300\nsilent_after_cadences = 3\n\n"
      "[[tariff]]\nname = \"commercial\"\ncurrency = \"USD\"\nenergy_per_kwh = \"0.1432\"\n"
      "demand_per_kw = \"12.50\"\nfixed_per_meter = \"4.00\"\n\n"
      "[[tariff]]\nname = \"residential\"\ncurrency = \"USD\"\nenergy_per_kwh = \"0.1199\"\n"
      "fixed_per_meter = \"2.50\"\n";
  for (const auto& m : kMeters) {
    b.fleet_toml += fmt::format(
        "\n[[meter]]\nid = {}\nbus = \"main\"\nmodel = \"{}\"\n{}[meter.load]\nkind = \"{}\"\n"
        "current_a = {}\npf = 0.93\n{}",
        m.id, m.model, m.keys, m.load, m.current, m.tables);
    if (m.label[0] == '\0') continue;
    b.collector_toml += fmt::format("\n[[meter]]\nid = {}\nmodel = \"{}\"\nlabel = \"{}\"\n", m.id,
                                    m.model, m.label);
    if (m.tenant[0] != '\0')
      b.collector_toml += fmt::format("tenant = \"{}\"\ntariff = \"{}\"\n", m.tenant, m.tariff);
  }
  return b;
}

}  // namespace imsm::cli
