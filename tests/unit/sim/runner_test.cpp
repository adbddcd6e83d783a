// run_fleet: the loop behind `imsmeter simulate` (docs/simulate.md): outputs and truth agree
// with the bus statistics, bus selection errors, and a stop request ends the run cleanly.
#include "sim/runner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "sim/duration.h"
#include "support/vectors.h"

namespace imsm::sim {
namespace {

constexpr const char* kTwoBuses = R"(seed = 4
[[bus]]
name = "a"
[[bus]]
name = "b"
bit_error_rate = 1e-3
[[meter]]
id = 2578
bus = "a"
model = "S2-480-N-01-01-041-01"
[meter.load]
current_a = 100
[[meter]]
id = 7
bus = "b"
model = "S1-120-X-01-01-011-00"
[meter.load]
kind = "residential"
current_a = 50
)";

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

TEST(Runner, FilesAndTruthMatchTheBuses) {
  Fleet fleet(parse_fleet_config(kTwoBuses, "t.toml"), 4);
  const std::string dir = ::testing::TempDir();
  RunOptions o;
  o.duration_ns = 2 * 86400 * kNsPerSecond;
  o.outputs = {*parse_output_spec("a=file:" + dir + "/a.bin"),
               *parse_output_spec("b=file:" + dir + "/b.bin")};
  o.truth_path = dir + "/truth.jsonl";
  o.info = std::tmpfile();
  std::atomic<bool> stop{false};
  const RunReport rep = run_fleet(fleet, o, stop);
  EXPECT_FALSE(rep.interrupted);
  EXPECT_EQ(rep.simulated_ns, o.duration_ns);
  const auto a = slurp(dir + "/a.bin"), b = slurp(dir + "/b.bin");
  EXPECT_EQ(a.size(), fleet.bus(0).stats().bytes);
  EXPECT_EQ(b.size(), fleet.bus(1).stats().bytes);
  EXPECT_EQ(rep.truth_lines, fleet.bus(0).stats().frames + fleet.bus(1).stats().frames);
  std::ifstream truth(o.truth_path);
  std::string line;
  double last_t = -1;
  std::size_t noisy = 0, lines = 0;
  while (std::getline(truth, line)) {
    const auto j = nlohmann::json::parse(line);
    ++lines;
    const double t = j.at("t_s").get<double>();
    EXPECT_GE(t, last_t);  // bus-time order across buses
    last_t = t;
    const auto& bytes = j.at("bus") == "a" ? a : b;
    std::vector<std::uint8_t> raw;
    ASSERT_FALSE(parse_hex(j.at("raw").get<std::string>(), raw));
    const auto off = j.at("offset").get<std::size_t>();
    const bool same =
        off + 12 <= bytes.size() &&
        std::equal(raw.begin(), raw.end(), bytes.begin() + static_cast<std::ptrdiff_t>(off));
    if (j.at("intact").get<bool>()) {
      EXPECT_TRUE(same) << line;
    } else {
      ++noisy;
    }
    if (j.at("meter_id") == test::frame_vectors().at(0).meter_id) {
      EXPECT_EQ(j.at("bus"), "a");
    }
  }
  EXPECT_EQ(lines, rep.truth_lines);
  EXPECT_GT(noisy, 0u);  // bus b: 96 bits per frame at 1e-3 flips about 9 % of frames
  std::fclose(o.info);
}

TEST(Runner, BusSelectionErrors) {
  Fleet fleet(parse_fleet_config(kTwoBuses, "t.toml"), 4);
  RunOptions o;
  o.duration_ns = 3600 * kNsPerSecond;
  o.info = std::tmpfile();
  std::atomic<bool> stop{false};
  o.outputs = {*parse_output_spec("file:" + ::testing::TempDir() + "/x.bin")};
  EXPECT_THROW((void)run_fleet(fleet, o, stop), std::invalid_argument);  // which bus?
  o.outputs = {*parse_output_spec("c=file:" + ::testing::TempDir() + "/x.bin")};
  EXPECT_THROW((void)run_fleet(fleet, o, stop), std::invalid_argument);
  o.outputs = {*parse_output_spec("a=file:/nonexistent-dir/x.bin")};
  EXPECT_THROW((void)run_fleet(fleet, o, stop), std::runtime_error);
  std::fclose(o.info);
}

TEST(Runner, StopRequestEndsTheRun) {
  Fleet fleet(parse_fleet_config(kTwoBuses, "t.toml"), 4);
  RunOptions o;
  o.duration_ns = 86400 * kNsPerSecond;
  o.speed = 1.0;  // a day in real time: only the stop request can end it quickly
  o.info = std::tmpfile();
  std::atomic<bool> stop{true};
  const auto t0 = std::chrono::steady_clock::now();
  const RunReport rep = run_fleet(fleet, o, stop);
  EXPECT_TRUE(rep.interrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  std::fclose(o.info);
}

}  // namespace
}  // namespace imsm::sim
