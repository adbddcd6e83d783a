// What the open store transaction holds, in call order, so that a batch the store failed to
// commit can be written again after rollback() (issue 9: a database error is a state). The
// Store contract: after rollback() its in-memory state is back at begin(), so replaying the
// same journal() calls and the same apply() decisions in the same order yields the same
// frame and event ids. The validator is not run again: its decisions are kept here.
//
// Compact on the hot path: observations in one vector, every applied Decisions appended to
// one merged Decisions, and per apply() only where each of its vectors ended.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "collector/config.h"
#include "collector/model.h"
#include "collector/observation.h"

namespace imsm::collector {
class Store;
class Validator;
}  // namespace imsm::collector

namespace imsm::collector::service {

class WriteLog {
 public:
  // After store.journal(o) (o.frame_id set).
  void journal(const Observation& o);
  // Before store.apply(d).
  void apply(const Decisions& d);
  // After store.save_registry(config).
  void registry(const CollectorConfig& config);

  // Replays every call into `store` (inside an open batch). Throws what the store throws,
  // and std::logic_error when the store hands out other frame ids than the first time.
  void replay(Store& store, const Validator& v) const;
  void clear();
  [[nodiscard]] std::size_t frames() const { return obs_.size(); }
  [[nodiscard]] bool empty() const { return ops_.empty(); }

 private:
  enum class Op : std::uint8_t { Journal, Apply, Registry };
  using Ends = std::array<std::uint32_t, 7>;
  [[nodiscard]] Ends ends() const;
  void slice(const Ends& from, const Ends& to, Decisions& out) const;

  std::vector<Op> ops_;
  std::vector<Observation> obs_;
  Decisions merged_;
  std::vector<Ends> ends_;
  std::vector<CollectorConfig> registries_;
};

}  // namespace imsm::collector::service
