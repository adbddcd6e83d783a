// The capture timing sidecar (SPEC "Captures with timing").
#include "io/capture_times.h"

#include <gtest/gtest.h>

namespace imsm::io {
namespace {

TEST(CaptureTimes, ParsesExactNanosecondsWithoutFloat) {
  std::vector<BurstMark> marks;
  ASSERT_FALSE(
      parse_capture_times("# comment\n0 0\n12 300.0125\n\n24 2592000.000001\n", 100, marks));
  ASSERT_EQ(marks.size(), 3u);
  EXPECT_EQ(marks[1].offset, 12u);
  EXPECT_EQ(marks[1].time_ns, 300'012'500'000);
  EXPECT_EQ(marks[2].time_ns, 2'592'000'000'001'000);
}

TEST(CaptureTimes, RejectsBadLinesNamingTheLine) {
  struct Case {
    const char* text;
    std::size_t line;
  } cases[] = {{"0 0\n5\n", 2},   {"0 0\nx 1\n", 2},  {"0 -1\n", 1},      {"0 1.\n", 1},
               {"0 1\n0 2\n", 2}, {"0 5\n10 4\n", 2}, {"0 0\n200 1\n", 2}};
  for (const auto& c : cases) {
    std::vector<BurstMark> marks;
    auto err = parse_capture_times(c.text, 100, marks);
    ASSERT_TRUE(err) << c.text;
    EXPECT_EQ(err->line, c.line) << c.text;
  }
}

TEST(CaptureTimes, FormatRoundTrips) {
  const BurstMark m{4096, 86'400'123'456'000};
  const std::string line = format_burst_mark(m);
  EXPECT_EQ(line, "4096 86400.123456\n");
  std::vector<BurstMark> back;
  ASSERT_FALSE(parse_capture_times(line, 5000, back));
  EXPECT_EQ(back.at(0).offset, m.offset);
  EXPECT_EQ(back.at(0).time_ns, m.time_ns);
}

}  // namespace
}  // namespace imsm::io
