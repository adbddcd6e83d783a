// The capture timing sidecar (SPEC "Captures with timing").
#include "io/capture_times.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

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

TEST(CaptureTimes, RefusesTimesPastTheLimitInsteadOfOverflowing) {
  // 9,999,999,999 s x 10^9 ns/s is past INT64_MAX (9.22 x 10^18): refused, not wrapped.
  std::vector<BurstMark> marks;
  auto err = parse_capture_times("0 0\n12 9999999999\n", 100, marks);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->line, 2u);
  EXPECT_NE(err->message.find("9999999999"), std::string::npos) << err->message;
  // The limit itself is a valid time; a nanosecond past it is not.
  marks.clear();
  ASSERT_FALSE(parse_capture_times("0 1000000000\n", 100, marks));
  EXPECT_EQ(marks.at(0).time_ns, kMaxCaptureSeconds * 1'000'000'000);
  EXPECT_TRUE(parse_capture_times("0 1000000000.000000001\n", 100, marks));
}

// The streamed reader gives exactly what the whole-text parser gives, whatever the line
// lengths (a comment longer than the 64 KiB read buffer included), and the same errors.
TEST(CaptureTimes, StreamMatchesTheTextParser) {
  std::string text = "# " + std::string(200'000, 'c') + "\n";
  for (int i = 0; i < 50'000; ++i) text += format_burst_mark({12u * i, 300'000'000'000LL * i});
  text += "600000 15000000.5";  // no final newline
  const std::string path = ::testing::TempDir() + "capture_times_stream.times";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  std::vector<BurstMark> want;
  ASSERT_FALSE(parse_capture_times(text, 0, want));
  ASSERT_EQ(want.size(), 50'001u);
  std::optional<CaptureTimesStream> stream;
  ASSERT_FALSE(CaptureTimesStream::open(path, 0, stream));
  std::size_t n = 0;
  for (std::optional<BurstMark> m;;) {
    ASSERT_FALSE(stream->next(m));
    if (!m) break;
    ASSERT_LT(n, want.size());
    EXPECT_EQ(m->offset, want[n].offset);
    EXPECT_EQ(m->time_ns, want[n].time_ns);
    ++n;
  }
  EXPECT_EQ(n, want.size());

  // A bad line is reported with its number, as by the text parser (line 1 is the comment).
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fputs("# c\n0 0\n12 5\n24 4\n", f);
    std::fclose(f);
  }
  stream.reset();
  ASSERT_FALSE(CaptureTimesStream::open(path, 0, stream));
  std::optional<BurstMark> m;
  ASSERT_FALSE(stream->next(m));
  ASSERT_FALSE(stream->next(m));
  auto err = stream->next(m);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->line, 4u);
  EXPECT_FALSE(err->unreadable);
  std::remove(path.c_str());
}

TEST(CaptureTimes, StreamNamesAMissingFile) {
  std::optional<CaptureTimesStream> stream;
  auto err = CaptureTimesStream::open("/nonexistent/x.times", 0, stream);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("/nonexistent/x.times"), std::string::npos);
}

}  // namespace
}  // namespace imsm::io
