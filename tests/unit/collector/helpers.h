// Small builders shared by the collector's unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>

#include "collector/observation.h"
#include "protocol/frame.h"
#include "support/vectors.h"

namespace imsm::collector::test {

inline constexpr UtcMicros kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z
inline constexpr std::int64_t kMinute = 60 * kMicrosPerSecond;

inline Observation obs(std::int64_t frame_id, std::uint16_t id, std::uint32_t kwh,
                       std::uint16_t peak, std::uint8_t resets, UtcMicros at,
                       protocol::Burst burst = protocol::Burst::Alone) {
  protocol::Frame f;
  f.meter_id = MeterId{id};
  f.peak_demand = DemandCounts{peak};
  f.demand_resets = ResetCounter{resets};
  f.total_kwh = Kwh24{kwh & Kwh24::kMask};
  Observation o;
  o.frame_id = frame_id;
  o.received_at = at;
  o.burst = burst;
  o.raw = protocol::encode(f);
  o.stream_offset = static_cast<std::uint64_t>(frame_id) * 12;
  return o;
}

// The guide's worked example (2.5.2) as an observation.
inline Observation guide_obs(std::int64_t frame_id, UtcMicros at) {
  const auto& v = imsm::test::frame_vectors().at(0);
  Observation o;
  o.frame_id = frame_id;
  o.received_at = at;
  o.burst = protocol::Burst::Alone;
  std::copy(v.raw.begin(), v.raw.end(), o.raw.begin());
  return o;
}

// A fixture with a fresh directory per test (named after the test) and a database path in it.
class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A parametrised test is named "Name/param": one directory level, not two.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() /
           ("imsm_collector_test_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace imsm::collector::test
