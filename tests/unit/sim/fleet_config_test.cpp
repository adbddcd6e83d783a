// The fleet configuration (docs/simulate.md "Configuration"): every key of the issue, and
// errors that name the file, the line and the key.
#include "sim/fleet_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "support/vectors.h"

namespace imsm::sim {
namespace {

// The issue's example, verbatim in substance.
constexpr const char* kIssueExample = R"(seed = 42
[[bus]]
name = "main"
bit_error_rate = 0.0
[[meter]]
id = 2578
bus = "main"
model = "S2-480-N-01-01-041-01"
power_up_s = 0.0
[meter.load]
kind = "constant"
voltage_v = [277.0, 277.0, 277.0]
current_a = [100.0, 100.0, 100.0]
pf = 1.0
pf_mode = "lag"
frequency_hz = 60.0
[meter.wiring]
reversed = [2]
ct_on_line = [1, 3, 2]
[[meter.key_press]]
at_s = 3613.0
hold_s = 0.5
[[meter.outage]]
from_s = 7200.0
to_s = 7500.0
)";

std::string config_error(const std::string& text) {
  try {
    (void)parse_fleet_config(text, "fleet.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FleetConfig, EveryKeyOfTheIssueExample) {
  const FleetConfig c = parse_fleet_config(kIssueExample, "fleet.toml");
  ASSERT_TRUE(c.seed);
  EXPECT_EQ(*c.seed, 42u);
  ASSERT_EQ(c.buses.size(), 1u);
  EXPECT_EQ(c.buses[0].name, "main");
  EXPECT_EQ(c.buses[0].bit_error_rate, 0.0);
  ASSERT_EQ(c.meters.size(), 1u);
  const MeterSpec& m = c.meters[0];
  // The guide's worked-example meter ID (guide 2.5.2).
  EXPECT_EQ(m.id, test::frame_vectors().at(0).meter_id);
  EXPECT_EQ(m.bus, "main");
  EXPECT_EQ(m.model_config.elements, 3);
  EXPECT_EQ(m.model_config.ct_primary_a, 400);
  ASSERT_TRUE(m.power_up_ns);
  EXPECT_EQ(*m.power_up_ns, 0);
  EXPECT_EQ(m.load.kind, LoadKind::Constant);
  ASSERT_TRUE(m.load.voltage_v);
  EXPECT_EQ((*m.load.voltage_v)[2], 277.0);
  EXPECT_EQ(m.load.current_a[1], 100.0);
  EXPECT_EQ(m.load.pf, 1.0);
  EXPECT_FALSE(m.load.leading);
  EXPECT_EQ(m.load.frequency_hz, 60.0);
  EXPECT_EQ(m.wiring.reversed, std::vector<int>{2});
  EXPECT_EQ(m.wiring.ct_on_line, (std::vector<int>{1, 3, 2}));
  ASSERT_EQ(m.key_presses.size(), 1u);
  EXPECT_EQ(m.key_presses[0].at_ns, 3613LL * 1'000'000'000);
  EXPECT_EQ(m.key_presses[0].hold_ns, 500'000'000);
  ASSERT_EQ(m.outages.size(), 1u);
  EXPECT_EQ(m.outages[0].from_ns, 7200LL * 1'000'000'000);
  EXPECT_EQ(m.outages[0].to_ns, 7500LL * 1'000'000'000);
}

TEST(FleetConfig, DefaultsWhenOptionalKeysAreMissing) {
  const FleetConfig c = parse_fleet_config(R"([[meter]]
id = 7
model = "S1-120-X-01-01-011-00"
[meter.load]
current_a = [10]
)",
                                           "f.toml");
  EXPECT_FALSE(c.seed);
  ASSERT_EQ(c.buses.size(), 1u);  // a default bus
  EXPECT_EQ(c.buses[0].name, "main");
  const MeterSpec& m = c.meters[0];
  EXPECT_EQ(m.bus, "main");
  EXPECT_FALSE(m.power_up_ns);  // random later, from the seed
  EXPECT_FALSE(m.drift_ppm);
  EXPECT_FALSE(m.load.voltage_v);  // nominal
  EXPECT_EQ(m.load.pf, 1.0);
  EXPECT_EQ(m.load.frequency_hz, 60.0);
  EXPECT_EQ(c.load_resolution_ns, 60LL * 1'000'000'000);
}

TEST(FleetConfig, LeadAndMoreBusKeys) {
  const FleetConfig c = parse_fleet_config(R"(load_resolution_s = 300
max_drift_ppm = 5
[[bus]]
name = "a"
bit_error_rate = 1e-5
byte_drop_rate = 0.001
garbage_per_hour = 3
garbage_max_bytes = 5
tx_latency_s = 0.002
[[bus]]
name = "b"
[[meter]]
id = 1
bus = "b"
model = "S2-208-N-01-01-011-01"
drift_ppm = -12.5
demand = false
[meter.load]
kind = "office"
current_a = 50
pf = 0.8
pf_mode = "lead"
noise = 0.2
)",
                                           "f.toml");
  EXPECT_EQ(c.load_resolution_ns, 300LL * 1'000'000'000);
  EXPECT_EQ(c.max_drift_ppm, 5.0);
  EXPECT_EQ(c.buses[0].byte_drop_rate, 0.001);
  EXPECT_EQ(c.buses[0].garbage_max_bytes, 5);
  EXPECT_EQ(c.buses[0].tx_latency_ns, 2'000'000);
  EXPECT_EQ(c.meters[0].bus_index, 1u);
  EXPECT_EQ(*c.meters[0].drift_ppm, -12.5);
  EXPECT_EQ(*c.meters[0].demand, false);
  EXPECT_TRUE(c.meters[0].load.leading);
  EXPECT_EQ(c.meters[0].load.kind, LoadKind::Office);
  EXPECT_EQ(c.meters[0].load.current_a[2], 50.0);  // one number: every element
  EXPECT_EQ(c.meters[0].load.noise, 0.2);
}

TEST(FleetConfig, ErrorsNameFileLineAndKey) {
  // A bad value: the message carries the line of the value and the key path.
  std::string e = config_error(
      "[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\n"
      "current_a = [1, 2, 3]\npf = 1.5\n");
  EXPECT_NE(e.find("fleet.toml:6:"), std::string::npos) << e;
  EXPECT_NE(e.find("meter[0].load.pf"), std::string::npos) << e;
  // An unknown key (a typo) is an error, not silently ignored.
  e = config_error(
      "[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\npowerup_s = 3\n"
      "[meter.load]\ncurrent_a = 1\n");
  EXPECT_NE(e.find("fleet.toml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("meter[0].powerup_s"), std::string::npos) << e;
  // TOML syntax errors keep toml++'s position.
  e = config_error("seed = \n");
  EXPECT_NE(e.find("fleet.toml:1:"), std::string::npos) << e;
  // A bad model number names the field.
  e = config_error(
      "[[meter]]\nid = 1\nmodel = \"S2-999-N-01-01-041-01\"\n[meter.load]\ncurrent_a = 1\n");
  EXPECT_NE(e.find("fleet.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("voltage"), std::string::npos) << e;
  // Wrong number of per-element values.
  e = config_error(
      "[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\ncurrent_a = [1, 2]\n");
  EXPECT_NE(e.find("3 entries"), std::string::npos) << e;
  // References and ranges.
  EXPECT_NE(config_error("[[meter]]\nid = 1\nbus = \"x\"\nmodel = "
                         "\"S2-480-N-01-01-041-01\"\n[meter.load]\ncurrent_a = 1\n")
                .find("no [[bus]] is named 'x'"),
            std::string::npos);
  EXPECT_NE(
      config_error(
          "[[meter]]\nid = 70000\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\ncurrent_a = 1\n")
          .find("meter[0].id"),
      std::string::npos);
  EXPECT_NE(
      config_error("[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.wiring]\nreversed "
                   "= [4]\n[meter.load]\ncurrent_a = 1\n")
          .find("element 4 does not exist"),
      std::string::npos);
  EXPECT_NE(
      config_error(
          "[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\ncurrent_a = 1\n"
          "[[meter.outage]]\nfrom_s = 10\nto_s = 5\n")
          .find("meter[0].outage.to_s"),
      std::string::npos);
  EXPECT_NE(
      config_error("[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n").find("[meter.load]"),
      std::string::npos);
  EXPECT_NE(config_error("[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\nkind "
                         "= \"nope\"\ncurrent_a = 1\n")
                .find("meter[0].load.kind"),
            std::string::npos);
  EXPECT_NE(config_error("[[bus]]\nname = \"a\"\n[[bus]]\nname = \"a\"\n").find("duplicate bus"),
            std::string::npos);
  EXPECT_NE(
      config_error(
          "[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\ncurrent_a = 1\n"
          "pf_mode = \"sideways\"\n")
          .find("lag or lead"),
      std::string::npos);
}

TEST(FleetConfig, CsvLoadsByCurrentOrByKw) {
  const std::string dir = ::testing::TempDir();
  {
    std::ofstream f(dir + "/by_current.csv");
    f << "t_s,i1_a,i2_a,i3_a,pf\n0,10,20,30,0.9\n3600,5,5,5,1.0\n";
    std::ofstream g(dir + "/by_kw.csv");
    g << "# a comment\nt_s,kw,pf\n0,83.1,1.0\n";
    std::ofstream t(dir + "/fleet.toml");
    t << "[[meter]]\nid = 1\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\nkind = \"csv\"\n"
         "path = \"by_current.csv\"\n"
         "[[meter]]\nid = 2\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\nkind = \"csv\"\n"
         "path = \"by_kw.csv\"\nrepeat = true\n";
  }
  const FleetConfig c = load_fleet_config(dir + "/fleet.toml");
  ASSERT_EQ(c.meters[0].load.csv_rows.size(), 2u);
  EXPECT_EQ(c.meters[0].load.csv_rows[0].current_a[2], 30.0);
  EXPECT_EQ(c.meters[0].load.csv_rows[0].pf[1], 0.9);
  EXPECT_EQ(c.meters[0].load.csv_rows[1].t_ns, 3600LL * 1'000'000'000);
  // 83.1 kW over 3 elements at 277 V, PF 1: 100 A each.
  EXPECT_NEAR(c.meters[1].load.csv_rows[0].current_a[0], 100.0, 0.01);
  EXPECT_TRUE(c.meters[1].load.csv_repeat);
  {
    std::ofstream bad(dir + "/bad.csv");
    bad << "t_s,i1_a,i2_a,i3_a\n0,1,2,3\n10,1,x,3\n";
  }
  try {
    (void)read_load_csv(dir + "/bad.csv", 3, {277, 277, 277});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("i2_a"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace imsm::sim
