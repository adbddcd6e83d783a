// Runs a fleet for a duration: steps the meters, sends each bus's bytes to its outputs
// (paced against the wall clock at --speed N, or as fast as readers drain at max), writes
// the ground truth, draws a progress bar. The CLI and the integration tests call this.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/fleet.h"
#include "sim/outputs.h"

namespace imsm::sim {

struct RunOptions {
  std::int64_t duration_ns = 0;
  std::optional<double> speed;  // times real time; nullopt = max
  std::vector<OutputSpec> outputs;
  std::string truth_path;  // empty: none
  bool progress = false;   // a progress bar on stderr
  double drain_timeout_s = 10.0;
  std::FILE* info = stdout;  // where announcements go ("pty main /dev/pts/7")
};

struct RunReport {
  std::int64_t simulated_ns = 0;
  double wall_s = 0.0;
  bool interrupted = false;
  std::uint64_t truth_lines = 0;
  std::uint64_t bytes_lost = 0;  // by real-time outputs nobody was reading
};

// Checks and opens the outputs (announcing each), then runs. Throws std::invalid_argument
// for a bad output choice (unknown bus...) and std::runtime_error when an output cannot be
// opened.
RunReport run_fleet(Fleet& fleet, const RunOptions& options, const std::atomic<bool>& stop);

}  // namespace imsm::sim
