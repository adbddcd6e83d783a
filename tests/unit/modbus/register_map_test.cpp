// The register map (docs/modbus.md): every register of a meter, from hand-derived values.
#include "collector/modbus/register_map.h"

#include <gtest/gtest.h>

namespace imsm::collector::modbus {
namespace {

constexpr UtcMicros kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z

// The guide's worked example (2.5.2): ID 0x0A12 = 2578, demand 0x0CF1 = 3313 counts,
// resets 0xC3 = 195, kWh 0x0A599B = 678299; read 125.9 s before `now`.
MeterSummary guide_meter() {
  MeterSummary m;
  m.info.id = 2578;
  m.info.registered = true;
  m.info.model = "S2-480-N-01-01-041-01";  // guide 2.1 Figure 4
  m.info.epoch = 1;
  m.last = Point{kT0, 1, 678'299, 3313, 195};
  m.status = "online";
  return m;
}

TEST(RegisterMap, Guide2_5_2ReadingInEveryRegister) {
  const auto r = register_map(guide_meter(), kT0 + 125'900'000);
  // 678299 kWh = 67,829,900 x 0.01 kWh = 0x040B008C (0x040B x 65536 = 67,829,760; + 0x8C).
  EXPECT_EQ(r[0], 0x040B);
  EXPECT_EQ(r[1], 0x008C);
  // 678299 < 2^24, exact in binary32: 2^19 <= x < 2^20, exponent 19 + 127 = 0x92;
  // mantissa (678299 - 2^19) << 4 = 0x2599B0 -> 0x49000000 | 0x2599B0 = 0x492599B0.
  EXPECT_EQ(r[2], 0x4925);
  EXPECT_EQ(r[3], 0x99B0);
  // 3313 counts x 20 W = 66,260 W = 0x000102D4 (66260 - 65536 = 724 = 0x2D4).
  EXPECT_EQ(r[4], 0x0001);
  EXPECT_EQ(r[5], 0x02D4);
  // 66.26 kW: 66.26 / 2^6 = 1.0353125, exponent 6 + 127 = 0x85; mantissa
  // round(0.0353125 x 2^23) = round(296223.47) = 0x4851F -> 0x42800000 | 0x4851F = 0x4284851F.
  EXPECT_EQ(r[6], 0x4284);
  EXPECT_EQ(r[7], 0x851F);
  EXPECT_EQ(r[8], 195);
  EXPECT_EQ(r[9], 0);  // 125 s: whole seconds, rounded down
  EXPECT_EQ(r[10], 125);
  EXPECT_EQ(r[11], 1);  // online
  EXPECT_EQ(r[12], 2578);
  // S2-480-N-01-01-041-01 (guide 2.1 Figure 4): series 2000, 277/480 V (code 5), three
  // elements, 400 A CTs (rating 041).
  EXPECT_EQ(r[13], 2000);
  EXPECT_EQ(r[14], 5);
  EXPECT_EQ(r[15], 3);
  EXPECT_EQ(r[16], 400);
  EXPECT_EQ(r[17], 1);
  EXPECT_EQ(r[18], 1);
}

TEST(RegisterMap, OldFormatModelAndSilentStatus) {
  MeterSummary m = guide_meter();
  m.info.model = "BL3-240-200-PKG-SP";  // guide 2.1 Figure 3: 1000 series, 1ph-3w, 120/240, 200 A
  m.status = "silent";
  const auto r = register_map(m, kT0);
  EXPECT_EQ(r[11], 2);
  EXPECT_EQ(r[13], 1000);
  EXPECT_EQ(r[14], 4);  // 120/240 V
  EXPECT_EQ(r[15], 2);  // two elements
  EXPECT_EQ(r[16], 200);
}

TEST(RegisterMap, MeterWithoutReadingAnswersNotAvailable) {
  MeterSummary m;
  m.info.id = 17;  // discovered, no model, no reading
  const auto r = register_map(m, kT0);
  for (int at : {0, 1, 4, 5, 8, 9, 10}) EXPECT_EQ(r[at], 0xFFFF) << "register " << at;
  // float32 quiet NaN 0x7FC00000
  for (int at : {2, 6}) {
    EXPECT_EQ(r[at], 0x7FC0) << "register " << at;
    EXPECT_EQ(r[at + 1], 0x0000) << "register " << at + 1;
  }
  EXPECT_EQ(r[11], 0);  // waiting
  EXPECT_EQ(r[12], 17);
  for (int at : {13, 14, 15, 16, 17, 18}) EXPECT_EQ(r[at], 0) << "register " << at;
}

TEST(RegisterMap, EnergyWrapsModulo2To32AndAgeSaturates) {
  MeterSummary m = guide_meter();
  // 50,000,000 kWh x 100 = 5,000,000,000 - 2^32 (4,294,967,296) = 705,032,704 = 0x2A05F200.
  m.last->total_kwh = 50'000'000;
  // A reading stamped 2^32 s before now: the age saturates just below "not available".
  const UtcMicros now = kT0 + (std::int64_t{1} << 32) * kMicrosPerSecond;
  auto r = register_map(m, now);
  EXPECT_EQ(r[0], 0x2A05);
  EXPECT_EQ(r[1], 0xF200);
  EXPECT_EQ(r[9], 0xFFFF);
  EXPECT_EQ(r[10], 0xFFFE);
  // A reading stamped after `now` (clock step): age 0, never negative.
  r = register_map(m, kT0 - 1);
  EXPECT_EQ(r[9], 0);
  EXPECT_EQ(r[10], 0);
}

TEST(RegisterMap, ZeroDemandIsZeroNotNotAvailable) {
  MeterSummary m = guide_meter();
  m.last->peak_demand_counts = 0;
  m.last->demand_resets = 0;
  const auto r = register_map(m, kT0);
  for (int at : {4, 5, 6, 7, 8}) EXPECT_EQ(r[at], 0) << "register " << at;  // +0.0f is 0x00000000
}

}  // namespace
}  // namespace imsm::collector::modbus
