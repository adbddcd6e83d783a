// Durations on the simulate command line (issue "Command": 90s, 15m, 24h, 7d).
#include "sim/duration.h"

#include <gtest/gtest.h>

#include "support/vectors.h"

namespace imsm::sim {
namespace {

TEST(Duration, ContractUnits) {
  EXPECT_EQ(parse_duration_ns("90s"), 90 * kNsPerSecond);
  EXPECT_EQ(parse_duration_ns("15m"), 900 * kNsPerSecond);
  EXPECT_EQ(parse_duration_ns("24h"), 86400 * kNsPerSecond);
  EXPECT_EQ(parse_duration_ns("7d"), 7 * 86400 * kNsPerSecond);
  EXPECT_EQ(parse_duration_ns("30d"), 30LL * 86400 * kNsPerSecond);
}

TEST(Duration, FractionsAreExactAndPlainNumbersAreSeconds) {
  EXPECT_EQ(parse_duration_ns("0.1s"), 100'000'000);
  EXPECT_EQ(parse_duration_ns("1.5h"), 5400 * kNsPerSecond);
  EXPECT_EQ(parse_duration_ns("3600"), 3600 * kNsPerSecond);
  EXPECT_EQ(parse_duration_ns("250ms"), 250'000'000);
  // One frame at 9600 8N1: 12 bytes of 10 bits.
  EXPECT_EQ(parse_duration_ns("0.0125s"), 12'500'000);
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "s", "-5s", "5x", "5 s", "1.s", ".", "1e3s", "99999999999999d"})
    EXPECT_FALSE(parse_duration_ns(bad).has_value()) << bad;
}

TEST(Duration, SecondsToNs) {
  EXPECT_EQ(seconds_to_ns(3613.0), 3613 * kNsPerSecond);
  EXPECT_EQ(seconds_to_ns(0.5), 500'000'000);
  EXPECT_FALSE(seconds_to_ns(-1.0).has_value());
  // The guide's frame vector is loaded by every suite; here it only anchors the byte count
  // that makes 12.5 ms a frame.
  ASSERT_FALSE(test::frame_vectors().empty());
  EXPECT_EQ(test::frame_vectors()[0].raw.size() * 10 * 1'000'000'000 / 9600, 12'500'000u);
}

}  // namespace
}  // namespace imsm::sim
