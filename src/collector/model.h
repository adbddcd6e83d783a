// The collector's domain model, shared by sources, validator, store and sinks: what a
// reading, a rejection and an event are, and the counters a source keeps. Nothing here does
// I/O; events carry structured detail that one writer (EventDetail::json) serialises.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "collector/time_util.h"

namespace imsm::collector {

// Why a structurally valid frame did not become a reading (SPEC "Validation beyond
// structure"); counted per reason per source, stored with every rejected frame.
enum class RejectReason : std::uint8_t {
  KwhBackwards,      // the 24-bit kWh moved back (more than half the wrap)
  KwhTooFast,        // more energy than the meter's maximum power allows
  ResetsBackwards,   // the reset counter moved back
  ResetsTooFast,     // more resets than key presses could make in the time
  PeakFell,          // peak demand fell without a demand reset
  SharedUnknown,     // unknown ID from a shared burst: never confirms a meter
  Unconfirmed,       // unknown ID never seen consistently (provisional expired)
  HeldNotConfirmed,  // a held frame the next frame did not confirm
  PeakTooHigh,       // peak demand above 1.25 x the meter's maximum power
  Retracted,         // accepted, then contradicted by the next two frames, which agree with
                     // the reading before it (a one-off corrupted frame)
  CollisionPhantom,  // the OR-merge of due meters' frames (lock-step collision)
  CorruptedId,       // a due known meter's frame with bit errors in its ID (never a new meter)
};
inline constexpr std::size_t kRejectReasonCount =
    static_cast<std::size_t>(RejectReason::CorruptedId) + 1;
[[nodiscard]] const char* to_string(RejectReason r);
[[nodiscard]] std::optional<RejectReason> parse_reject_reason(std::string_view s);

enum class EventKind : std::uint8_t {
  Discovered,   // a meter ID became known (first reading)
  DemandReset,  // the reset counter advanced (guide 2.4.2 key switch)
  Rollover,     // the 24-bit kWh register wrapped
  Silent,       // no reading for `silent_after_cadences` cadences
  BackOnline,   // a silent meter read again
  Replaced,     // a new epoch: the register jumped and the next frames confirmed it
  Retracted,    // an accepted reading withdrawn by hindsight
  SourceUp,     // a live source connected
  SourceDown,   // a live source lost or failed to open (detail: the error)
  Rebuilt,      // `imsmeter rebuild` re-derived everything from the journal
};
inline constexpr std::size_t kEventKindCount = static_cast<std::size_t>(EventKind::Rebuilt) + 1;
[[nodiscard]] const char* to_string(EventKind k);
[[nodiscard]] std::optional<EventKind> parse_event_kind(std::string_view s);
// Every kind's name, comma-separated (help texts and error messages).
[[nodiscard]] std::string event_kind_names();

// An event's detail: a flat, ordered list of named values, written as one JSON object by
// json() (the one place event detail becomes text, so error strings are always escaped).
class EventDetail {
 public:
  using Value = std::variant<std::int64_t, std::string, bool>;
  EventDetail& add(std::string key, std::int64_t v);
  EventDetail& add(std::string key, std::string v);
  EventDetail& add(std::string key, const char* v) { return add(std::move(key), std::string(v)); }
  EventDetail& add(std::string key, bool v);
  [[nodiscard]] const std::vector<std::pair<std::string, Value>>& fields() const { return fields_; }
  [[nodiscard]] const Value* find(std::string_view key) const;
  [[nodiscard]] std::string json() const;
  bool operator==(const EventDetail&) const = default;

 private:
  std::vector<std::pair<std::string, Value>> fields_;
};

struct Reading {
  std::int64_t frame_id = 0;
  std::uint16_t meter_id = 0;
  UtcMicros received_at = 0;
  std::uint32_t source_id = 0;
  std::uint32_t epoch = 0;     // 0 for the first meter at this ID, +1 per replacement
  std::int64_t total_kwh = 0;  // unwrapped within the epoch
  std::uint32_t kwh24 = 0;     // as on the wire
  std::uint16_t peak_demand_counts = 0;
  std::uint8_t demand_resets = 0;
  std::uint8_t lead = 0;  // byte 1 of its frame (no significance, kept: the frame is its fields)
};

struct Rejection {
  std::int64_t frame_id = 0;
  std::uint16_t meter_id = 0;
  RejectReason reason = RejectReason::Unconfirmed;
  std::string detail;
};

struct Event {
  UtcMicros at = 0;
  EventKind kind = EventKind::Discovered;
  std::optional<std::uint16_t> meter_id;
  std::optional<std::uint32_t> source_id;
  EventDetail detail;
};

// What the caller must store after each validator call. Drained (cleared) by the caller.
struct Decisions {
  std::vector<Reading> readings;
  std::vector<Rejection> rejections;
  std::vector<std::int64_t> held;      // frames now pending (journal them as such)
  std::vector<std::int64_t> released;  // frames no longer pending (decided)
  std::vector<Reading> retracted;      // readings to move from readings to rejected
  std::vector<Event> events;
  std::vector<std::uint16_t> meters_changed;  // rows of `meters` to upsert
  // IDs whose decision state in the validator changed (a known meter's or an unknown ID's
  // candidates): the store writes them with these decisions (docs/collector.md "Restarts").
  std::vector<std::uint16_t> state_changed;
  void clear();
  [[nodiscard]] bool empty() const;
};

// A source's framing counters (rtl_433-style: one counter per reason).
struct SourceCounters {
  std::uint64_t bytes_in = 0;
  std::uint64_t frames = 0;
  std::uint64_t shared_frames = 0;  // frames that shared their burst (collisions, noise)
  std::uint64_t skipped_no_stop = 0;
  std::uint64_t skipped_padding = 0;
  std::uint64_t skipped_gap = 0;
  std::uint64_t skipped_end = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t last_offset = 0;  // highest stream offset journaled + 1 (file sources)
  // Frames the validator rejected, per RejectReason (counted by the ingest loop).
  std::array<std::uint64_t, kRejectReasonCount> rejected{};
};

}  // namespace imsm::collector
