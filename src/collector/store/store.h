// The collector's store (docs/collector.md "Store"): the one interface through which the
// collector, reports, listings and sinks reach stored data. No caller sees SQL or a database
// handle; SQLite (store/sqlite/) is the first implementation, PostgreSQL will be the second,
// and the store test suite runs once per implementation.
//
//   journal      every framed observation, accepted or not, with its raw bytes (frames)
//   readings     one row per accepted reading, keyed by (meter, time, frame)
//   rejected     frames not accepted, with the reason; pending: frames not yet decided
//   events       discovered, demand_reset, rollover, silent, ... (model.h EventKind)
//   rollups      one row per meter and UTC hour (rollup.h), kept in the same transaction
//   outbox       every committed reading, rejection, retraction and event, and every frame put
//                on hold (provisional), numbered; each sink reads it from its own durable cursor
// Times are UTC microseconds since the epoch. A failed call throws; after rollback() the
// store's in-memory state (next ids, sequence numbers) is as at begin(), so replaying the same
// journal() and apply() calls yields the same ids.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/model.h"
#include "collector/observation.h"
#include "collector/store/rollup.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

struct StoreOptions {
  bool read_only = false;
  bool synchronous_full = true;  // fsync at every commit (durable against power loss)
  int cache_kib = 2048;          // SQLite page cache: bounds the daemon's memory
  // How long a statement waits for another connection's lock before SQLITE_BUSY. The
  // collector's writer keeps it short: it retries with backoff and stays responsive.
  int busy_timeout_ms = 10'000;
};

struct MeterInfo {
  std::uint16_t id = 0;
  bool registered = false;
  std::string model, label, tenant, location, tariff;
  std::optional<std::int64_t> discovered_at;
  std::uint32_t epoch = 0;
  bool silent = false;
};

// One meter's readings in a time window, and its first reading ever (receive ratios).
struct ReadingWindow {
  std::int64_t count = 0;             // readings with from <= received_at < to
  std::optional<UtcMicros> first_at;  // the meter's oldest reading; nullopt: none at all
  bool operator==(const ReadingWindow&) const = default;
};

struct StoredReading {
  Reading r;
  std::string source;
  protocol::RawFrame raw{};
};

struct StoredEvent {
  std::int64_t id = 0;
  Event e;
  std::string source;
  bool retracted = false;  // raised by a reading that was later retracted
};

// A rejected frame, with its bytes, source, time and reason.
struct StoredRejection {
  std::int64_t frame_id = 0;
  std::uint16_t meter_id = 0;
  UtcMicros received_at = 0;
  std::string source;
  int burst = 0;
  std::string reason, detail;
  protocol::RawFrame raw{};
};

// One change in the outbox, with what it refers to.
// Provisional: a frame put on hold by the validator (pending), published at once for live views
// with what its bytes say; its frame's later Reading entry confirms it and its Rejection entry
// withdraws it, each marked `decides_provisional` (docs/collector.md "Outbox").
enum class OutboxKind : std::uint8_t {
  Reading = 1,
  Rejection = 2,
  Retraction = 3,
  Event = 4,
  Provisional = 5,
};
[[nodiscard]] const char* to_string(OutboxKind k);

struct OutboxItem {
  std::uint64_t seq = 0;
  OutboxKind kind = OutboxKind::Reading;
  std::optional<StoredReading> reading;      // Reading, Retraction (the withdrawn reading),
                                             // Provisional (what the held frame says)
  std::optional<StoredRejection> rejection;  // Rejection
  std::optional<StoredEvent> event;          // Event
  // A Reading entry whose reading was withdrawn since: `reading` holds what its frame says
  // (meter, time, wire fields), not the unwrapped total or epoch.
  bool withdrawn = false;
  // A Reading or Rejection entry that decides a frame published before as Provisional.
  bool decides_provisional = false;
};

// What identifies a capture file replayed from a path: a hash of its first bytes (a path
// alone does not: a capture overwritten by another must not be skipped as already read).
struct CaptureIdentity {
  std::uint64_t prefix_len = 0;  // bytes hashed (the first min(size, kCapturePrefix))
  std::string prefix_hash;       // FNV-1a 64 of those bytes, hex
  bool operator==(const CaptureIdentity&) const = default;
};

struct OutboxStatus {
  std::uint64_t head = 0;            // newest sequence number (0: nothing yet)
  std::uint64_t oldest = 0;          // oldest still kept (0: empty)
  std::uint64_t trimmed_unsent = 0;  // trimmed past the size bound before a sink read them
};

class Store {
 public:
  virtual ~Store() = default;

  [[nodiscard]] virtual int schema_version() = 0;
  // Incremented by every `rebuild` (readings and events re-derived: a new generation).
  [[nodiscard]] virtual std::int64_t generation() = 0;

  // --- ingest -------------------------------------------------------------------------
  // Batches: begin() opens a transaction when none is open; commit() ends it.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  [[nodiscard]] virtual bool in_transaction() const = 0;

  virtual std::uint32_t source_id(const std::string& name) = 0;
  [[nodiscard]] virtual SourceCounters source_counters(std::uint32_t id) = 0;
  virtual void save_source_counters(std::uint32_t id, const SourceCounters& c) = 0;
  // The capture a file source last read (nullopt: never recorded).
  [[nodiscard]] virtual std::optional<CaptureIdentity> capture_identity(std::uint32_t id) = 0;
  virtual void save_capture_identity(std::uint32_t id, const CaptureIdentity& c) = 0;

  // Registered meters' metadata, from the configuration.
  virtual void save_registry(const CollectorConfig& config) = 0;
  // Journals a new observation; sets obs.frame_id.
  virtual void journal(Observation& obs) = 0;
  // Stores what the validator decided (inside the open batch), with their outbox entries.
  // `v` must outlive the batch (its commit or rollback): the decision state it leads to is
  // read from it once, at commit.
  virtual void apply(const Decisions& d, const Validator& v) = 0;

  // --- restart ------------------------------------------------------------------------
  // The validator's whole decision state (docs/collector.md "Restarts"), kept with every
  // commit: restored into `v` (false when none is stored: then load_meter_states and
  // load_pending); save_validator_state writes every ID `v` knows with the next commit.
  [[nodiscard]] virtual bool load_validator_state(Validator& v) = 0;
  virtual void save_validator_state(const Validator& v) = 0;
  [[nodiscard]] virtual std::vector<MeterState> load_meter_states() = 0;
  [[nodiscard]] virtual std::vector<Observation> load_pending() = 0;
  // Every journaled frame in journal order (rebuild); `fn` may write through this store.
  virtual void each_frame(const std::function<void(const Observation&)>& fn) = 0;
  // Deletes everything derived from the journal (readings, rollups, rejected, pending,
  // derived events, discovered meters) inside the open batch and starts a new generation.
  virtual void clear_derived() = 0;

  // --- queries ------------------------------------------------------------------------
  [[nodiscard]] virtual std::vector<MeterInfo> meters() = 0;
  // One meter's row (one keyed query, not the whole table).
  [[nodiscard]] virtual std::optional<MeterInfo> meter(std::uint16_t id) = 0;
  // Readings of one meter (or all when nullopt) with from <= received_at < to, ordered by
  // meter then time, then frame id, with their source and raw bytes; `fn` is called per row.
  virtual void each_reading(std::optional<std::uint16_t> meter, UtcMicros from, UtcMicros to,
                            const std::function<void(const StoredReading&)>& fn) = 0;
  // The same for one meter without the journal's source and bytes (the bill's path).
  virtual void each_meter_reading(std::uint16_t meter, UtcMicros from, UtcMicros to,
                                  const std::function<void(const Reading&)>& fn) = 0;
  // The meter's newest reading received before `before` (of `epoch` when given), and its
  // oldest reading received after `after`.
  [[nodiscard]] virtual std::optional<Reading> last_reading(
      std::uint16_t meter, UtcMicros before, std::optional<std::uint32_t> epoch = {}) = 0;
  [[nodiscard]] virtual std::optional<Reading> first_reading_after(std::uint16_t meter,
                                                                   UtcMicros after) = 0;
  // Every meter's newest reading (last_reading(id, max) of each meter with one), in one pass.
  [[nodiscard]] virtual std::map<std::uint16_t, Reading> last_readings() = 0;
  // Hourly rollups of one meter with from <= hour < to, in hour order.
  virtual void each_rollup(std::uint16_t meter, UtcMicros from, UtcMicros to,
                           const std::function<void(const HourRollup&)>& fn) = 0;
  // fold_rollups of the meter's rollups with from <= hour < to (the bill's fast path), and
  // the register at each of `at` from the rollups (nullopt: not a quarter hour, or unknown).
  [[nodiscard]] virtual RollupSpan rollup_span(std::uint16_t meter, UtcMicros from,
                                               UtcMicros to) = 0;
  [[nodiscard]] virtual std::vector<std::optional<std::int64_t>> register_wh_at(
      std::uint16_t meter, const std::vector<UtcMicros>& at) = 0;
  // The hours from <= hour < to whose rollup has any of `flags` (rollup.h), in order.
  [[nodiscard]] virtual std::vector<UtcMicros> flagged_hours(std::uint16_t meter, UtcMicros from,
                                                             UtcMicros to, std::uint8_t flags) = 0;
  // Readings and rejections stored per meter.
  [[nodiscard]] virtual std::map<std::uint16_t, std::int64_t> reading_counts() = 0;
  [[nodiscard]] virtual std::map<std::uint16_t, std::int64_t> rejection_counts() = 0;
  // Every meter of the meters table: its readings in [from, to) and its first reading, in one
  // pass (not two queries per meter).
  [[nodiscard]] virtual std::map<std::uint16_t, ReadingWindow> reading_windows(UtcMicros from,
                                                                               UtcMicros to) = 0;
  // The same for one meter (0 when it has none).
  [[nodiscard]] virtual std::int64_t reading_count(std::uint16_t meter) = 0;
  [[nodiscard]] virtual std::int64_t rejection_count(std::uint16_t meter) = 0;
  [[nodiscard]] virtual std::vector<StoredRejection> rejections(std::optional<std::uint16_t> meter,
                                                                UtcMicros from, UtcMicros to) = 0;
  // `kind` empty: every kind.
  [[nodiscard]] virtual std::vector<StoredEvent> events(std::optional<std::uint16_t> meter,
                                                        UtcMicros from, UtcMicros to,
                                                        const std::string& kind) = 0;
  [[nodiscard]] virtual std::vector<std::pair<std::string, SourceCounters>> sources() = 0;
  // Arrival of the newest journaled frame (the store's clock), if any.
  [[nodiscard]] virtual std::optional<UtcMicros> last_frame_at() = 0;
  // Rows of a table of the store ("frames", "readings", "rejected", "pending", "events",
  // "rollups_hourly", "outbox"); tests and summaries.
  [[nodiscard]] virtual std::int64_t count(const char* table) = 0;

  // --- outbox -------------------------------------------------------------------------
  // Up to `limit` items with seq > after, in order.
  [[nodiscard]] virtual std::vector<OutboxItem> outbox_after(std::uint64_t after,
                                                             std::size_t limit) = 0;
  [[nodiscard]] virtual OutboxStatus outbox_status() = 0;
  // A sink's durable cursor (0 when new) and its update (its own small transaction).
  [[nodiscard]] virtual std::uint64_t sink_cursor(const std::string& sink) = 0;
  virtual void save_sink_cursor(const std::string& sink, std::uint64_t seq) = 0;
  // Every sink that has saved a cursor, by name, with its cursor.
  [[nodiscard]] virtual std::vector<std::pair<std::string, std::uint64_t>> sink_cursors() = 0;
  // Drops entries every registered sink has read, then the oldest beyond `max_entries`
  // (counted as trimmed unsent). Returns the number trimmed unsent by this call.
  virtual std::uint64_t trim_outbox(
      std::uint64_t max_entries,
      std::uint64_t read_through = std::numeric_limits<std::uint64_t>::max()) = 0;
};

// Opens (and for a writer creates or migrates) the store at `path`: a SQLite file. Throws
// std::runtime_error naming the path when it cannot.
[[nodiscard]] std::unique_ptr<Store> open_store(const std::string& path, StoreOptions options = {});

}  // namespace imsm::collector
