// The collector's SQLite store (docs/collector.md "Store"): WAL, versioned migrations,
// foreign keys, one transaction per batch.
//
//   sources   one row per source name, with its framing/collision counters
//   meters    registry (from the configuration) and discovered meters; epoch, silent flag
//   frames    the raw-frame journal: every framed observation, accepted or not, with its raw
//             12 bytes, source, byte offset and burst flag. Readings are re-derived from it
//             by `imsmeter rebuild`.
//   reading_blocks  the accepted readings, one row per meter and UTC hour (reading_blocks.h):
//             unwrapped kWh (per epoch) and the raw 24-bit value, peak demand counts, reset
//             counter, frame id (schema version 3)
//   readings  a view expanding the blocks: one row per reading, with its frame id
//   rejected  frames not accepted, with the reason (raw bytes through frames)
//   pending   frames held until a later frame decides (provisional IDs, contradictions)
//   events    discovered, demand_reset, rollover, silent, back_online, replaced, source_*;
//             `retracted` = 1 on a demand_reset or rollover raised by a retracted reading
// Times are UTC microseconds since the epoch.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/observation.h"
#include "collector/store/reading_blocks.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

inline constexpr int kSchemaVersion = 3;

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

class Store {
 public:
  explicit Store(const std::string& path, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] SQLite::Database& db() { return db_; }
  [[nodiscard]] int schema_version();

  // --- ingest -------------------------------------------------------------------------
  // Batches: begin() opens a transaction when none is open; commit() ends it.
  void begin();
  void commit();
  void rollback();
  [[nodiscard]] bool in_transaction() const { return in_tx_; }

  std::uint32_t source_id(const std::string& name);
  [[nodiscard]] SourceCounters source_counters(std::uint32_t id);
  void save_source_counters(std::uint32_t id, const SourceCounters& c);

  // Registered meters' metadata, from the configuration.
  void save_registry(const CollectorConfig& config);
  // Journals a new observation; sets obs.frame_id.
  void journal(Observation& obs);
  // Stores what the validator decided (inside the open batch).
  void apply(const Decisions& d, const Validator& v);

  // --- restart ------------------------------------------------------------------------
  [[nodiscard]] std::vector<MeterState> load_meter_states();
  [[nodiscard]] std::vector<Observation> load_pending();
  // Every journaled frame in journal order (rebuild); `fn` may write through this store.
  void each_frame(const std::function<void(const Observation&)>& fn);

  // --- queries ------------------------------------------------------------------------
  [[nodiscard]] std::vector<MeterInfo> meters();
  [[nodiscard]] std::optional<MeterInfo> meter(std::uint16_t id);
  // Readings of one meter (or all when nullopt) with from <= received_at < to, ordered by
  // meter then time, then frame id, with their source and raw bytes; `fn` is called per row.
  void each_reading(std::optional<std::uint16_t> meter, UtcMicros from, UtcMicros to,
                    const std::function<void(const StoredReading&)>& fn);
  // The same for one meter without the journal's source and bytes (the bill's path).
  void each_meter_reading(std::uint16_t meter, UtcMicros from, UtcMicros to,
                          const std::function<void(const Reading&)>& fn);
  // The meter's newest reading received before `before` (of `epoch` when given), and its
  // oldest reading received after `after`.
  [[nodiscard]] std::optional<Reading> last_reading(std::uint16_t meter, UtcMicros before,
                                                    std::optional<std::uint32_t> epoch = {});
  [[nodiscard]] std::optional<Reading> first_reading_after(std::uint16_t meter, UtcMicros after);
  // Readings stored per meter.
  [[nodiscard]] std::map<std::uint16_t, std::int64_t> reading_counts();
  [[nodiscard]] std::vector<StoredEvent> events(std::optional<std::uint16_t> meter, UtcMicros from,
                                                UtcMicros to, const std::string& kind);
  [[nodiscard]] std::vector<std::pair<std::string, SourceCounters>> sources();
  [[nodiscard]] std::int64_t count(const char* table);

  // Deletes everything derived from the journal (readings, rejected, pending, events,
  // discovered meters) inside the open batch; used by rebuild.
  void clear_derived();

 private:
  void migrate();
  void prepare();
  void upsert_meter(const MeterState& m);
  void flush_journal();

  SQLite::Database db_;
  StoreOptions options_;
  bool in_tx_ = false;
  std::int64_t next_frame_id_ = 1;
  std::optional<Observation> unwritten_;  // journaled, row not yet written (see journal())
  std::int64_t next_event_id_ = 1;
  std::int64_t begin_frame_id_ = 1, begin_event_id_ = 1;  // at begin(), for rollback()
  std::unique_ptr<ReadingBlocks> blocks_;
  std::unique_ptr<SQLite::Statement> ins_frame_, ins_rejected_, ins_pending_, del_pending_,
      ins_event_, retract_events_, upsert_meter_;
};

}  // namespace imsm::collector
