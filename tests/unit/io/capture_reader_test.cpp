// io::CaptureReader hands a capture's bytes to a ByteSink with their arrival times: io knows
// bytes and times, the framer lives above it (docs/architecture.md).
#include "io/capture_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace imsm::io {
namespace {

struct Piece {
  std::vector<std::uint8_t> bytes;
  std::optional<std::int64_t> first_ns;
  std::int64_t spacing_ns;
  bool operator==(const Piece&) const = default;
};

class Recorder final : public ByteSink {
 public:
  void bytes(std::span<const std::uint8_t> b, std::optional<std::chrono::nanoseconds> first,
             std::chrono::nanoseconds spacing) override {
    pieces.push_back(Piece{{b.begin(), b.end()},
                           first ? std::optional<std::int64_t>(first->count()) : std::nullopt,
                           spacing.count()});
  }
  void idle(std::chrono::nanoseconds) override { ++idles; }
  void block_done() override { ++blocks; }
  std::vector<Piece> pieces;
  int idles = 0, blocks = 0;
};

class CaptureReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("imsm_io_capture_reader_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "cap.bin").string();
    std::vector<std::uint8_t> bytes(30);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
    write(path_, std::string(bytes.begin(), bytes.end()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void write(const std::string& p, const std::string& text) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  std::vector<std::uint8_t> range(std::uint8_t from, std::uint8_t to) {
    std::vector<std::uint8_t> v;
    for (auto b = from; b < to; ++b) v.push_back(b);
    return v;
  }
  std::filesystem::path dir_;
  std::string path_;
};

// Two bursts: bytes 0-11 at t = 0 and bytes 12-29 at t = 1.5 s. Read in blocks of 16 bytes,
// the second burst is cut by the block edge at byte 16; the piece from byte 16 starts
// 4 byte times after its burst: 1.5 s + 4 x 1,041,667 ns = 1,504,166,668 ns.
TEST_F(CaptureReaderTest, SplitsBlocksAtBurstsAndTimesEachPieceFromItsSidecarMark) {
  write(path_ + ".times", "0 0\n12 1.5\n");
  std::optional<CaptureReader> r;
  ASSERT_FALSE(CaptureReader::open(path_, std::nullopt, true, r));
  ASSERT_TRUE(r->timed());
  Recorder rec;
  ASSERT_FALSE(r->run(rec, 16));
  const std::int64_t bt = kByteTime9600.count();
  EXPECT_EQ(bt, 1'041'667);
  const std::vector<Piece> want{{range(0, 12), 0, bt},
                                {range(12, 16), 1'500'000'000, bt},
                                {range(16, 30), 1'504'166'668, bt}};
  EXPECT_EQ(rec.pieces, want);
  EXPECT_EQ(rec.blocks, 2);  // 16 + 14 bytes
  EXPECT_EQ(rec.idles, 0);
}

TEST_F(CaptureReaderTest, AnUntimedCaptureGivesBytesWithoutTimes) {
  std::optional<CaptureReader> r;
  ASSERT_FALSE(CaptureReader::open(path_, std::nullopt, false, r));
  EXPECT_FALSE(r->timed());
  Recorder rec;
  ASSERT_FALSE(r->run(rec, 1 << 20));
  ASSERT_EQ(rec.pieces.size(), 1u);
  EXPECT_EQ(rec.pieces[0].bytes, range(0, 30));
  EXPECT_FALSE(rec.pieces[0].first_ns);
}

TEST_F(CaptureReaderTest, ABadSidecarFailsAtOpenNamingItsLine) {
  write(path_ + ".times", "0 0\n40 1\n");  // offset 40 is past the 30-byte capture
  std::optional<CaptureReader> r;
  const auto err = CaptureReader::open(path_, std::nullopt, true, r);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, CaptureError::Kind::BadTimes);
  EXPECT_NE(err->message.find("cap.bin.times:2"), std::string::npos) << err->message;
}

}  // namespace
}  // namespace imsm::io
