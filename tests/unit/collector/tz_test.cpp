// Time zones from the system's TZif files (report/tz.h). New York 2026: DST starts Sunday
// March 8 at 02:00 EST (07:00Z), ends Sunday November 1 at 02:00 EDT (06:00Z); EST is
// UTC-5, EDT UTC-4. Expectations are those rules applied by hand.
#include <gtest/gtest.h>

#include <string>

#include "collector/report/tz.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kT0;  // 2026-11-01T00:00:00Z
constexpr std::int64_t kHour = 3600 * kMicrosPerSecond;

TimeZone new_york() {
  std::string error;
  auto z = TimeZone::load("America/New_York", error);
  if (!z) ADD_FAILURE() << error;
  return z.value_or(TimeZone{});
}

TEST(TimeZone, NewYorkOffsetsAroundTheNovember2026Change) {
  const auto ny = new_york();
  EXPECT_EQ(ny.offset_s(kT0 + 6 * kHour - 1), -4 * 3600);  // 01:59:59.999999 EDT
  EXPECT_EQ(ny.offset_s(kT0 + 6 * kHour), -5 * 3600);      // 01:00 EST
  EXPECT_EQ(format_local(ny, kT0 + 6 * kHour), "2026-11-01T01:00:00-05:00");
  EXPECT_EQ(format_local(ny, kT0), "2026-10-31T20:00:00-04:00");
  EXPECT_EQ(format_local(TimeZone{}, kT0), "2026-11-01T00:00:00Z");
}

TEST(TimeZone, November1_2026HasTwentyFiveHoursAndMarch8TwentyThree) {
  const auto ny = new_york();
  // Local midnight Nov 1 is 04:00Z (EDT), Nov 2 is 05:00Z (EST): 25 hours.
  const UtcMicros nov1 = ny.day_start(kT0 + 12 * kHour);
  EXPECT_EQ(nov1, kT0 + 4 * kHour);
  EXPECT_EQ(ny.next_day(nov1) - nov1, 25 * kHour);
  // March 8: 05:00Z (EST) to March 9 04:00Z (EDT): 23 hours.
  const UtcMicros mar8 = days_from_civil(2026, 3, 8) * 24 * kHour + 5 * kHour;
  EXPECT_EQ(ny.day_start(mar8 + 10 * kHour), mar8);
  EXPECT_EQ(ny.next_day(mar8) - mar8, 23 * kHour);
  // November's month: Nov 1 04:00Z to Dec 1 05:00Z = 30 days + 1 hour.
  EXPECT_EQ(ny.next_month(ny.month_start(kT0 + 12 * kHour)) - nov1, (30 * 24 + 1) * kHour);
}

TEST(TimeZone, LocalTimesInTheGapMoveForwardAndRepeatedOnesAreTheFirst) {
  const auto ny = new_york();
  const std::int64_t mar8_local = days_from_civil(2026, 3, 8) * 24 * kHour;
  // 02:30 does not exist on March 8: 02:30 with the EST offset = 07:30Z = 03:30 EDT.
  EXPECT_EQ(ny.from_local(mar8_local + 5 * kHour / 2), mar8_local + 7 * kHour + kHour / 2);
  // 01:30 on Nov 1 happens twice: the first is EDT, 05:30Z.
  const std::int64_t nov1_local = days_from_civil(2026, 11, 1) * 24 * kHour;
  EXPECT_EQ(ny.from_local(nov1_local + 3 * kHour / 2), kT0 + 5 * kHour + kHour / 2);
}

TEST(TimeZone, ArgumentsWithoutAnOffsetAreLocal) {
  const auto ny = new_york();
  EXPECT_EQ(parse_time_in(ny, "2026-11-01"), kT0 + 4 * kHour);         // local midnight, EDT
  EXPECT_EQ(parse_time_in(ny, "2026-11-02T00:00"), kT0 + 29 * kHour);  // EST
  EXPECT_EQ(parse_time_in(ny, "2026-11-01T00:00:00Z"), kT0);
  EXPECT_EQ(parse_time_in(ny, "2026-10-31T20:00:00-04:00"), kT0);
  EXPECT_EQ(parse_time_in(TimeZone{}, "2026-11-01"), kT0);
  EXPECT_FALSE(parse_time_in(ny, "last tuesday").has_value());
}

TEST(TimeZone, UnknownNamesAreRefusedNamingThem) {
  std::string error;
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons", error).has_value());
  EXPECT_NE(error.find("Mars/Olympus_Mons"), std::string::npos) << error;
  EXPECT_FALSE(TimeZone::load("../../etc/passwd", error).has_value());
  EXPECT_FALSE(TimeZone::load("/etc/passwd", error).has_value());
  EXPECT_TRUE(TimeZone::load("UTC", error).has_value());
}

// A TZif version 1 file built by hand (RFC 8536 section 3): one transition at t = 1000 s from
// type 0 (UTC+0, "AAA") to type 1 (UTC+1 h, "BBB").
std::string handmade_tzif() {
  std::string s = "TZif";
  s += '\0';  // version 1
  s += std::string(15, '\0');
  auto be32 = [&](std::uint32_t v) {
    for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  be32(0), be32(0), be32(0), be32(1), be32(2), be32(8);  // isut, isstd, leap, time, type, char
  be32(1000);                                            // the transition
  s += '\x01';                                           // -> type 1
  be32(0), s += '\0', s += '\0';                         // type 0: +0, std, "AAA"
  be32(3600), s += '\x01', s += '\x04';                  // type 1: +3600, dst, "BBB"
  s += std::string("AAA\0BBB\0", 8);
  return s;
}

TEST(TimeZone, ParsesAHandmadeVersion1File) {
  const auto z = TimeZone::parse("Test/Handmade", handmade_tzif());
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->offset_s(999 * kMicrosPerSecond), 0);
  EXPECT_EQ(z->offset_s(1000 * kMicrosPerSecond), 3600);
  EXPECT_FALSE(TimeZone::parse("x", "TZif2 truncated").has_value());
  EXPECT_FALSE(TimeZone::parse("x", handmade_tzif().substr(0, 50)).has_value());
}

TEST(TimeZone, TheFooterRuleGoesOnAfterTheTable) {
  // 2040 is past Debian's tables (2037): the rule "EST5EDT,M3.2.0,M11.1.0" applies. March 1
  // 2040 is a Thursday, so the second Sunday is March 11 (DST from 02:00 EST = 07:00Z);
  // November 1 2040 is a Thursday, the first Sunday is November 4 (EST from 02:00 EDT =
  // 06:00Z).
  const auto ny = new_york();
  const UtcMicros mar11 = days_from_civil(2040, 3, 11) * 24 * kHour;
  EXPECT_EQ(ny.offset_s(mar11 + 7 * kHour - 1), -5 * 3600);
  EXPECT_EQ(ny.offset_s(mar11 + 7 * kHour), -4 * 3600);
  const UtcMicros nov4 = days_from_civil(2040, 11, 4) * 24 * kHour;
  EXPECT_EQ(ny.offset_s(nov4 + 6 * kHour - 1), -4 * 3600);
  EXPECT_EQ(ny.offset_s(nov4 + 6 * kHour), -5 * 3600);
}

TEST(TimeZone, PosixRules) {
  // Southern hemisphere: AEST-10AEDT,M10.1.0,M4.1.0/3 (Sydney): daylight (UTC+11) from the
  // first Sunday of October 02:00 to the first Sunday of April 03:00 local.
  const auto r = TimeZone::parse_rule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->std_offset_s, 36'000);
  EXPECT_EQ(r->dst_offset_s, 39'600);
  EXPECT_EQ(r->end.time_s, 3 * 3600);
  const auto plain = TimeZone::parse_rule("<-03>3");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->std_offset_s, -3 * 3600);
  EXPECT_FALSE(plain->has_dst);
  EXPECT_FALSE(TimeZone::parse_rule("EST5EDT,J60,J300").has_value());  // not handled
  EXPECT_FALSE(TimeZone::parse_rule("E5").has_value());
}

TEST(TimeZone, AFileWithoutTransitionsUsesItsRule) {
  // A version 2 file with no transitions and one type, whose footer alone says New York's
  // rule: 2026-11-01 06:00Z still switches EDT -> EST.
  std::string s = "TZif2" + std::string(15, '\0');
  auto be32 = [&](std::uint32_t v) {
    for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) s += "TZif2" + std::string(15, '\0');
    be32(0), be32(0), be32(0), be32(0), be32(1), be32(4);
    be32(static_cast<std::uint32_t>(-18000)), s += '\0', s += '\0';
    s += std::string("EST\0", 4);
  }
  s += "\nEST5EDT,M3.2.0,M11.1.0\n";
  const auto z = TimeZone::parse("Test/Rule", s);
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->offset_s(kT0 + 6 * kHour - 1), -4 * 3600);
  EXPECT_EQ(z->offset_s(kT0 + 6 * kHour), -5 * 3600);
}

}  // namespace
}  // namespace imsm::collector
