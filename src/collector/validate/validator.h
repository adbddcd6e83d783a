// Validation beyond structure (SPEC; guide 2.5.2): a structurally valid frame becomes a
// reading only when it is plausible against that meter's last accepted state.
//
//   kWh         advances by at most floor(max_power_w x elapsed / 3600 s) + 1 kWh, modulo the
//               24-bit wrap (the +1 covers the register's 1 kWh quantisation);
//   resets      stay or advance, by at most one per 19 s display cycle (+1);
//   peak        does not fall unless the reset counter advanced.
//
// Unknown IDs are provisional until `confirm_frames` mutually consistent frames, each alone
// in its burst, have been seen; registered IDs are known at once, but their first reading (the
// start of an epoch) is a frame alone in its burst: shared-burst frames before it wait, and
// become readings only when they chain back from it cadence by cadence. A frame that contradicts
// the state is held until the next frame decides: if the next one agrees with the old state
// the held one is rejected; if it agrees with the held one, the meter was replaced (or its
// register otherwise jumped): a new epoch begins, audited by an event. A frame from a shared
// burst that contradicts the state is rejected; it never confirms a meter and never starts an
// epoch.
//
// Hindsight: a plausible frame that advances the reset counter, raises the peak, or comes from
// a shared burst with any field changed is held (pending) until the meter's next frame: it
// becomes a reading when that frame is plausible after it, and is rejected
// (`held_not_confirmed`) when that frame agrees with the last reading instead. A reset-counter
// jump is a physical event (a key turned, guide 3.8) that the meter's next frames repeat; a
// neighbour's stop byte (0x0D) or a flipped bit in that byte is not. A shared frame whose peak or
// counter changed, or one overlapped by another window of its burst (its tail may be a
// neighbour's head), is confirmed only by a frame alone in its burst; a shared frame that
// continues an earlier frame of that chain with its peak and counter cuts the newer frames that
// differ from it in them (merges), and one too far ahead of the chain's kWh is noise. A next
// frame that would
// reject the newest held frame waits for the frame after it (the second lookahead): when that
// one continues the held frames and not it, it is the odd one and is rejected instead.
//
// Lock-step collisions: two meters transmitting within a byte time put one OR-merged frame on
// the bus, alone in its burst, whose ID is the OR of theirs. A frame whose ID is the OR of the
// IDs of known meters that are due at that moment (their phase, the time of their last frame
// modulo the cadence, matches the frame's time) is rejected as `collision_phantom`: it never
// confirms a provisional ID and never becomes a registered meter's reading. The merge moves
// its parts' phases to its time (unless it agrees with the meter's own last reading). An unknown
// ID's frame that is a due known meter's frame with one or two ID bits flipped (it continues
// that meter's last reading) is rejected as `corrupted_id`: it never confirms a new meter.
//
// Pure: observations in, decisions out; the caller journals and stores them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/config.h"
#include "collector/model.h"
#include "collector/observation.h"

namespace imsm::collector {

struct MeterState {
  std::uint16_t id = 0;
  bool registered = false;
  std::int64_t max_power_w = kLargestModelPowerW;
  std::optional<UtcMicros> discovered_at;
  bool silent = false;
  std::uint32_t epoch = 0;
  // Last accepted reading.
  bool has_last = false;
  UtcMicros last_at = 0;
  std::int64_t last_total_kwh = 0;
  std::uint32_t last_kwh24 = 0;
  std::uint16_t last_peak = 0;
  std::uint8_t last_resets = 0;
  // Recent accepted readings of this epoch (time, unwrapped kWh), oldest first, for the
  // peak-demand energy bound.
  struct HistoryPoint {
    UtcMicros at = 0;
    std::int64_t total_kwh = 0;
  };
  static constexpr std::size_t kHistory = 8;
  std::array<HistoryPoint, kHistory> history{};
  std::size_t history_len = 0;
  void remember(UtcMicros at, std::int64_t total);
  // The accepted reading before the last one (for a retraction), same epoch.
  std::optional<Reading> last_reading;
  std::optional<Reading> prev_reading;
  // A frame (alone in its burst) that contradicts the last reading, held until the next one
  // decides.
  std::optional<Observation> held;
  RejectReason held_reason = RejectReason::HeldNotConfirmed;
  std::string held_detail;
  // The held frame is plausible against the last reading but changes what a bill trusts
  // without hindsight (its reset counter, a rise of its peak, or anything from a shared burst):
  // it waits for the meter's next frame to confirm it (docs/collector.md "Hindsight").
  bool held_suspect = false;
  // Frames from shared bursts after a held suspect frame from a shared burst, each plausible
  // after the one before: they wait with it for a frame alone in its burst (pending).
  std::vector<Observation> shared_chain;
  static constexpr std::size_t kMaxSharedChain = 288;  // a day of 5-minute frames
  // The frame that would decide the held frames against the newest of them (it continues
  // none of them, or only earlier ones), waiting for the meter's next frame: the second
  // lookahead (docs/collector.md "Hindsight"). Pending; set only while a suspect is held.
  std::optional<Observation> decider;
  // Before the first reading: frames from shared bursts, oldest first (pending). A shared
  // burst never starts an epoch: they wait for a frame alone in its burst, then those that
  // chain to it become readings (docs/collector.md "Validation").
  std::vector<Observation> unanchored;
  static constexpr std::size_t kMaxUnanchored = 288;  // a day of 5-minute frames
  // Last time the meter was recognised as a part of a lock-step merge (its phase, while its
  // own frames are all merged).
  std::optional<UtcMicros> merged_at;
  // Bucket of the Validator's phase index holding this meter (-1: none). Kept by the
  // Validator; not stored.
  std::int32_t phase_bucket = -1;
};

class Validator {
 public:
  explicit Validator(ValidationSettings settings) : settings_(settings) {}

  // Registers a meter from the configuration: known at once, its maximum power from the
  // model number when there is one.
  void register_meter(std::uint16_t id, std::optional<std::int64_t> max_power_w);
  // Restores a meter's state (from the store after a restart): all of it when the store kept
  // the validator's state, else the last reading (and the pending frames are decided again).
  void restore(const MeterState& state);

  // Decides one journaled observation (frame_id set). Observations of one meter must come
  // in arrival order.
  void process(const Observation& obs, Decisions& out);
  // The clock reached `now`: silent meters and stale provisional IDs. Proportional to what
  // is due: deadlines wait in min-heaps, each entry checked when its time comes.
  void sweep(UtcMicros now, Decisions& out);
  // The same decisions by a scan of every meter and candidate (the reference for tests and the
  // benchmark's baseline; the order of events may differ).
  void sweep_all(UtcMicros now, Decisions& out);

  [[nodiscard]] const MeterState* meter(std::uint16_t id) const;
  [[nodiscard]] const std::unordered_map<std::uint16_t, MeterState>& meters() const {
    return meters_;
  }
  [[nodiscard]] std::size_t provisional_ids() const { return provisional_.size(); }
  // An unknown ID's candidate chains (oldest first; empty when none), and their restoration
  // from the store after a restart (docs/collector.md "Restarts").
  [[nodiscard]] std::vector<std::vector<Observation>> candidates(std::uint16_t id) const;
  [[nodiscard]] std::vector<std::uint16_t> provisional_id_list() const;
  // An unknown ID's frames from shared bursts waiting for the ID to be confirmed (oldest
  // first), and their restoration after a restart.
  [[nodiscard]] std::vector<Observation> shared_unknown(std::uint16_t id) const;
  void restore_shared_unknown(std::uint16_t id, const std::vector<Observation>& frames);
  void restore_candidates(std::uint16_t id, const std::vector<std::vector<Observation>>& chains);
  [[nodiscard]] const ValidationSettings& settings() const { return settings_; }

  // Plausibility of `next` after `prev` (nullopt: plausible). Exposed for tests.
  struct Check {
    RejectReason reason;
    std::string detail;
  };
  [[nodiscard]] static std::optional<Check> check(std::uint32_t prev_kwh24, std::uint16_t prev_peak,
                                                  std::uint8_t prev_resets, UtcMicros prev_at,
                                                  const protocol::Frame& next, UtcMicros next_at,
                                                  std::int64_t max_power_w);
  // The most kWh a meter of `max_power_w` can register in `elapsed_us` (+1 for quantisation).
  [[nodiscard]] static std::uint64_t max_kwh_advance(std::int64_t max_power_w,
                                                     std::int64_t elapsed_us);

 private:
  struct Candidate {
    std::vector<Observation> chain;  // mutually consistent, each alone
  };

  std::optional<Check> check_against_last(const MeterState& m, const Observation& obs) const;
  void accept(MeterState& m, const Observation& obs, Decisions& out);
  void start_epoch(MeterState& m, const Observation& obs, Decisions& out, bool replacement,
                   const std::string& why);
  void hold(MeterState& m, const Observation& obs, const Check& why, Decisions& out);
  // Hindsight (docs/collector.md "Hindsight"): what a plausible frame changes that needs the
  // meter's next frame to confirm it; nullopt when it can be accepted at once.
  [[nodiscard]] std::optional<Check> suspect(const MeterState& m, const Observation& obs) const;
  // A frame with no held frame before it, `c` its check against the last reading.
  void decide_free(MeterState& m, const Observation& obs, const std::optional<Check>& c,
                   Decisions& out);
  // The meter's next frame decides its held suspect frame; when it would reject the newest
  // held frame and `may_defer`, it waits as the decider for the frame after it.
  void resolve_suspect(MeterState& m, const Observation& obs, const std::optional<Check>& c,
                       Decisions& out, bool may_defer = true);
  // How many frames of the shared chain stay when `obs` continues an earlier one than its last.
  [[nodiscard]] std::size_t chain_kept_by(const MeterState& m, const Observation& obs) const;
  // An hour of the meter's shared frames, `obs` the newest, that only moved kWh at its own rate
  // confirms its overlapped held frame without a frame alone ("A pair always in one burst").
  [[nodiscard]] bool quiet_chain_confirmed(const MeterState& m, const Observation& obs) const;
  // The held frames up to the `n_ok`th become readings, the others are rejected; then `obs`.
  void decide_held(MeterState& m, const Observation& obs, std::size_t n_ok, Decisions& out);
  // A known meter's frame `obs` after its held contradiction; with `may_defer`, a new epoch
  // waits for the frame after `obs` (`resolve_epoch`).
  void resolve_contradiction(MeterState& m, const Observation& obs, const std::optional<Check>& c,
                             Decisions& out, bool may_defer = true);
  // `obs` after a held contradiction and the decider that repeated it (a new epoch, or the
  // same bit error twice).
  void resolve_epoch(MeterState& m, const Observation& obs, Decisions& out);
  // The second lookahead: `obs` is the meter's next frame after its pending decider.
  void resolve_decider(MeterState& m, const Observation& obs, Decisions& out);
  // The decider `d`'s check against the last reading when it and the newest held frame `tail`
  // were both one-off errors: `next` continues the last reading and not `tail` (all alone).
  [[nodiscard]] std::optional<Check> both_off_the_line(const MeterState& m, const Observation& d,
                                                       const Observation& tail,
                                                       const Observation& next) const;
  // Why the decider `d` is a lone step back or down from the newest held frame `tail`, which
  // `next` continues (a cleared bit), or nullptr when it is not.
  [[nodiscard]] const char* lone_step(const MeterState& m, const Observation& d,
                                      const Observation& tail, const Observation& next) const;
  void release_held(MeterState& m, Decisions& out);
  // Why the held frame `h` (its peak fell) and `obs`, which continues it at another peak, are
  // two bit errors rather than a new meter.
  [[nodiscard]] const char* two_peaks_below(const MeterState& m, const Observation& h,
                                            const Observation& obs) const;
  // The held frame went back in kWh only, and `obs` agrees with it and with the last reading:
  // is the last reading the one off the meter's line (docs/collector.md "kWh off the line")?
  [[nodiscard]] bool kwh_off_the_line(const MeterState& m, const Observation& h,
                                      const Observation& obs) const;
  // The held frame went back in kWh only and continues the reading before the last, and `obs`
  // (alone) contradicts both: noise, while the held frame waits for the frame that decides.
  [[nodiscard]] bool noise_after_lowered(const MeterState& m, const Observation& h,
                                         const Observation& obs) const;
  // `o` differs from the last reading in kWh alone and is plausible after the reading before
  // it (needs both readings): the last reading may be the raised one.
  [[nodiscard]] bool kwh_back_to_prev(const MeterState& m, const Observation& o) const;
  // Part of it: one steady load fits the readings with the held frame and not with the last.
  [[nodiscard]] bool steady_load_tells(const MeterState& m, const Observation& h,
                                       const Observation& obs) const;
  // The held frame went back in kWh only, and `obs`, shared, goes back from the last reading
  // too but continues the held frame and nothing else moved: is the last reading the raised one
  // (docs/collector.md "kWh off the line")?
  [[nodiscard]] bool shared_repeats_held(const MeterState& m, const Observation& h,
                                         const Observation& obs, const Check& c) const;
  // A shared frame back from the last reading in kWh alone and plausible after the reading
  // before: it waits (held) for the frame that tells whether the last reading was raised.
  [[nodiscard]] bool shared_back_to_prev(const MeterState& m, const Observation& obs,
                                         const Check& c) const;
  // The last reading was a one-off corrupted frame: it is retracted, `h` accepted, and `obs`
  // accepted (alone) or decided as a free frame after `h` (shared).
  void retract_last(MeterState& m, const Observation& h, const Observation& obs,
                    const std::string& why, Decisions& out);
  // The last reading was the epoch's first and the frames `h` and `obs`, which agree with each
  // other, contradict it: it is retracted and the epoch starts again at `h`.
  void retract_first(MeterState& m, const Observation& h, const Observation& obs, Decisions& out);
  // The retraction of the last reading (its rejection and event); the state is the caller's.
  void withdraw_last(const MeterState& m, const Observation& obs, std::string detail,
                     Decisions& out);
  // Retracts the last reading (`detail` its rejection's) and makes the one before it the last.
  void drop_last(MeterState& m, const Observation& obs, std::string detail, Decisions& out);
  // `o` after the reading before the last (which must exist): nullopt when plausible.
  [[nodiscard]] std::optional<Check> from_before_last(const MeterState& m,
                                                      const Observation& o) const;
  // The decider `d` and the next frame `obs`, both alone, continue the reading before the last
  // (with its counter: a retraction makes no reset) and each other; `d` contradicts the last.
  [[nodiscard]] bool before_last_continued(const MeterState& m, const Observation& d,
                                           const Observation& obs) const;
  // Two errors in a row before `d` (docs/collector.md "Second lookahead"): the last reading
  // is retracted, the held frame rejected, `d` accepted and `obs` decided after it.
  void back_to_before_last(MeterState& m, const Observation& d, const Observation& obs,
                           Decisions& out);
  void reject(const Observation& obs, RejectReason reason, std::string detail, Decisions& out);
  void process_unknown(const Observation& obs, Decisions& out);
  void drop_candidate(Candidate& c, Decisions& out);
  // Frames from shared bursts of an unknown ID (docs/collector.md "Validation"): pending until
  // the ID is confirmed, then readings where they fit between its confirmed frames; rejected
  // (`unknown_meter_shared_burst`) once the newest is older than the silent span.
  void hold_shared_unknown(const Observation& obs, Decisions& out);
  void expire_shared_unknown(std::uint16_t id, UtcMicros now, Decisions& out);
  // The confirmed chain (frames alone in their bursts, oldest first) with the ID's pending
  // shared frames that fit it, in time order; the others are rejected.
  std::vector<Observation> with_shared_frames(const std::vector<Observation>& chain,
                                              Decisions& out);
  // Lock-step collisions (docs/collector.md "Collision phantoms").
  enum class Phase : std::uint8_t { Unknown, Due, NotDue };
  // Unknown past the horizon, or `across_merged_span`, a day after the meter's own last reading.
  [[nodiscard]] Phase phase_at(const MeterState& m, UtcMicros t,
                               bool across_merged_span = false) const;
  struct Phantom {
    Check check;
    static constexpr std::size_t kMaxParts = 8;
    std::array<std::uint16_t, kMaxParts> parts{};  // the due known meters it is made of
    std::size_t n_parts = 0;
    // Its parts were due at this moment; else (a merge told by its bytes alone) only the parts
    // that were due move their phase here.
    bool timed = true;
  };
  [[nodiscard]] std::optional<Phantom> collision_phantom(const MeterState* self,
                                                         const Observation& obs) const;
  void reject_phantom(const MeterState* self, const Observation& obs, Phantom p, Decisions& out);
  // The frame's kWh rose far faster since the last reading than the meter's own recent
  // readings did (a merge's OR adds its partner's bits).
  [[nodiscard]] bool above_own_rate(const MeterState& m, const Observation& obs) const;
  // An unknown ID that is the OR of two known meters' IDs, neither known to be elsewhere in its
  // cycle (due, or its phase lost while its frames were merged), whose reset counter is the OR
  // of theirs and whose peak and kWh are at least theirs: a lock-step merge (docs/collector.md
  // "Collision phantoms").
  [[nodiscard]] std::optional<Phantom> merge_of_known(const Observation& obs) const;
  // An unknown ID's frame alone in its burst that is a known meter's frame with one or two ID
  // bits flipped: the meter is due now (not heard in this cycle) and the frame continues its
  // last reading (docs/collector.md "Corrupted IDs"). The rejection's detail, else nullopt.
  [[nodiscard]] std::optional<std::string> corrupted_id_of_known(const Observation& obs) const;
  void anchor(MeterState& m, const Observation& obs, Decisions& out);
  void process_known(MeterState& m, const Observation& obs, Decisions& out);
  void place(MeterState& m);
  [[nodiscard]] std::optional<UtcMicros> phase_ref(const MeterState& m) const;

  // Deadline bookkeeping (docs/collector.md "Sweep"): an entry per change, stale entries
  // skipped when they come due.
  void arm(const MeterState& m);
  void arm_candidate(std::uint16_t id, UtcMicros last_frame_at);
  void mark_silent(MeterState& m, Decisions& out);
  void expire_candidates(std::uint16_t id, UtcMicros now, Decisions& out);
  [[nodiscard]] std::int64_t silent_us() const {
    return settings_.cadence_s * settings_.silent_after_cadences * kMicrosPerSecond;
  }
  using Deadline = std::pair<UtcMicros, std::uint16_t>;
  using DeadlineHeap = std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>>;
  DeadlineHeap silent_due_;     // (last reading + silent span, meter)
  DeadlineHeap candidate_due_;  // (newest candidate frame + silent span, unknown ID)

  ValidationSettings settings_;
  std::unordered_map<std::uint16_t, MeterState> meters_;
  std::map<std::uint16_t, std::vector<Candidate>> provisional_;
  std::map<std::uint16_t, std::vector<Observation>> shared_unknown_;
  static constexpr std::size_t kMaxSharedUnknown = 288;  // a day of 5-minute frames
  // Known meters by phase (time of their last frame modulo the cadence) in buckets of
  // kPhaseBucketUs: the meters due at a moment are found without scanning them all.
  static constexpr std::int64_t kPhaseBucketUs = 100'000;
  std::vector<std::vector<std::uint16_t>> phase_buckets_;
};

}  // namespace imsm::collector
