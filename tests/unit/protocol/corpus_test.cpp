// The bad-stream corpus (tests/corpus/framer), framed in-process with the same rules the
// decode command uses; expected outputs sit beside each case.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/capture_times.h"
#include "protocol/stream_framer.h"
#include "support/vectors.h"

namespace imsm::protocol {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> load_hex_case(const fs::path& p) {
  std::string text = test::read_text_file(p.string()), kept;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (text[pos] != '#') kept += text.substr(pos, end - pos) + " ";
    pos = end + 1;
  }
  return test::bytes_from_hex(kept);
}

TEST(FramerCorpus, EveryCaseMatchesItsExpectedOutput) {
  const fs::path dir = fs::path(IMSM_TESTS_DIR) / "corpus" / "framer";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".hex") continue;
    ++cases;
    const std::string name = entry.path().stem().string();
    const auto bytes = load_hex_case(entry.path());
    const auto expected =
        nlohmann::json::parse(test::read_text_file((dir / (name + ".expected.json")).string()));

    StreamFramer framer;
    std::vector<LocatedFrame> frames;
    const fs::path times = dir / (name + ".times");
    if (fs::exists(times)) {
      std::vector<io::BurstMark> marks;
      ASSERT_FALSE(
          io::parse_capture_times(test::read_text_file(times.string()), bytes.size(), marks));
      for (std::size_t i = 0; i < marks.size(); ++i) {
        const std::size_t end = i + 1 < marks.size() ? marks[i + 1].offset : bytes.size();
        framer.push(std::span(bytes).subspan(marks[i].offset, end - marks[i].offset),
                    Nanos{marks[i].time_ns}, kByteTime9600, frames);
      }
    } else {
      framer.push(bytes, frames);
    }
    framer.finish(frames);

    const auto& want = expected.at("frames");
    ASSERT_EQ(frames.size(), want.size()) << name;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].offset, want[i].at("offset").get<std::uint64_t>()) << name;
      EXPECT_EQ(frames[i].frame.meter_id.value, want[i].at("meter_id").get<int>()) << name;
      EXPECT_EQ(frames[i].frame.total_kwh.value, want[i].at("total_kwh").get<std::uint32_t>())
          << name;
      if (want[i].contains("burst")) {
        EXPECT_EQ(to_string(frames[i].burst), want[i].at("burst").get<std::string>()) << name;
      }
    }
    const auto& s = expected.at("summary");
    EXPECT_EQ(framer.skipped()[SkipReason::NoStopByte], s.at("no_stop_byte").get<std::uint64_t>())
        << name;
    EXPECT_EQ(framer.skipped()[SkipReason::NonZeroPadding],
              s.at("non_zero_padding").get<std::uint64_t>())
        << name;
    EXPECT_EQ(framer.skipped()[SkipReason::CutByGap], s.at("cut_by_gap").get<std::uint64_t>())
        << name;
    EXPECT_EQ(framer.skipped()[SkipReason::CutAtEnd], s.at("cut_at_end").get<std::uint64_t>())
        << name;
  }
  EXPECT_GE(cases, 8);
}

}  // namespace
}  // namespace imsm::protocol
