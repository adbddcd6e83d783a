// The SQLite implementation of Store (docs/collector.md "Store"): WAL, versioned migrations
// (sqlite_schema.cpp), foreign keys, one transaction per batch, single-row prepared inserts.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collector/store/store.h"

namespace imsm::collector {

class SqliteRollups;
class SqliteValidatorState;

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path, StoreOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // SQLite-specific: tests and benchmarks of this implementation only.
  [[nodiscard]] SQLite::Database& db() { return db_; }

  [[nodiscard]] int schema_version() override;
  [[nodiscard]] std::int64_t generation() override;

  void begin() override;
  void commit() override;
  void rollback() override;
  [[nodiscard]] bool in_transaction() const override { return in_tx_; }

  std::uint32_t source_id(const std::string& name) override;
  [[nodiscard]] SourceCounters source_counters(std::uint32_t id) override;
  void save_source_counters(std::uint32_t id, const SourceCounters& c) override;
  [[nodiscard]] std::optional<CaptureIdentity> capture_identity(std::uint32_t id) override;
  void save_capture_identity(std::uint32_t id, const CaptureIdentity& c) override;
  void save_registry(const CollectorConfig& config) override;
  void journal(Observation& obs) override;
  void apply(const Decisions& d, const Validator& v) override;

  [[nodiscard]] bool load_validator_state(Validator& v) override;
  void save_validator_state(const Validator& v) override;
  [[nodiscard]] std::vector<MeterState> load_meter_states() override;
  [[nodiscard]] std::vector<Observation> load_pending() override;
  void each_frame(const std::function<void(const Observation&)>& fn) override;
  void clear_derived() override;

  [[nodiscard]] std::vector<MeterInfo> meters() override;
  [[nodiscard]] std::optional<MeterInfo> meter(std::uint16_t id) override;
  void each_reading(std::optional<std::uint16_t> meter, UtcMicros from, UtcMicros to,
                    const std::function<void(const StoredReading&)>& fn) override;
  void each_meter_reading(std::uint16_t meter, UtcMicros from, UtcMicros to,
                          const std::function<void(const Reading&)>& fn) override;
  [[nodiscard]] std::optional<Reading> last_reading(std::uint16_t meter, UtcMicros before,
                                                    std::optional<std::uint32_t> epoch) override;
  [[nodiscard]] std::optional<Reading> first_reading_after(std::uint16_t meter,
                                                           UtcMicros after) override;
  [[nodiscard]] std::map<std::uint16_t, Reading> last_readings() override;
  void each_rollup(std::uint16_t meter, UtcMicros from, UtcMicros to,
                   const std::function<void(const HourRollup&)>& fn) override;
  [[nodiscard]] RollupSpan rollup_span(std::uint16_t meter, UtcMicros from, UtcMicros to) override;
  [[nodiscard]] std::vector<UtcMicros> flagged_hours(std::uint16_t meter, UtcMicros from,
                                                     UtcMicros to, std::uint8_t flags) override;
  [[nodiscard]] std::vector<std::optional<std::int64_t>> register_wh_at(
      std::uint16_t meter, const std::vector<UtcMicros>& at) override;
  [[nodiscard]] std::map<std::uint16_t, std::int64_t> reading_counts() override;
  [[nodiscard]] std::map<std::uint16_t, std::int64_t> rejection_counts() override;
  [[nodiscard]] std::map<std::uint16_t, ReadingWindow> reading_windows(UtcMicros from,
                                                                       UtcMicros to) override;
  [[nodiscard]] std::int64_t reading_count(std::uint16_t meter) override;
  [[nodiscard]] std::int64_t rejection_count(std::uint16_t meter) override;
  [[nodiscard]] std::vector<StoredRejection> rejections(std::optional<std::uint16_t> meter,
                                                        UtcMicros from, UtcMicros to) override;
  [[nodiscard]] std::vector<StoredEvent> events(std::optional<std::uint16_t> meter, UtcMicros from,
                                                UtcMicros to, const std::string& kind) override;
  [[nodiscard]] std::vector<std::pair<std::string, SourceCounters>> sources() override;
  [[nodiscard]] std::optional<UtcMicros> last_frame_at() override;
  [[nodiscard]] std::int64_t count(const char* table) override;

  [[nodiscard]] std::vector<OutboxItem> outbox_after(std::uint64_t after,
                                                     std::size_t limit) override;
  [[nodiscard]] OutboxStatus outbox_status() override;
  [[nodiscard]] std::uint64_t sink_cursor(const std::string& sink) override;
  void save_sink_cursor(const std::string& sink, std::uint64_t seq) override;
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> sink_cursors() override;
  std::uint64_t trim_outbox(std::uint64_t max_entries, std::uint64_t read_through) override;

 private:
  // Ids handed out but not yet committed; restored by rollback().
  struct Counters {
    std::int64_t next_frame_id = 1;
    std::int64_t next_event_id = 1;
    std::int64_t next_seq = 1;
  };

  void migrate();
  void build_all_rollups();
  void prepare();
  void load_counters();
  void upsert_meter(const MeterState& m);
  void flush_journal();
  void flush_readings();
  void add_outbox(OutboxKind kind, std::int64_t ref, std::optional<std::uint16_t> meter,
                  UtcMicros at, bool decides_provisional = false);
  // Pending rows of a decision (store.h "OutboxKind"): release_pending returns the frames it
  // decided that were pending (published as Provisional); hold_pending publishes new ones.
  [[nodiscard]] std::vector<std::int64_t> release_pending(const Decisions& d);
  void hold_pending(const Decisions& d, const Validator& v);
  [[nodiscard]] std::optional<StoredReading> reading_by_key(std::uint16_t meter, UtcMicros at,
                                                            std::int64_t frame_id);
  [[nodiscard]] std::optional<StoredReading> frame_as_reading(std::int64_t frame_id);
  [[nodiscard]] std::optional<StoredRejection> rejection_of(std::int64_t frame_id);
  [[nodiscard]] std::optional<StoredEvent> event_by_id(std::int64_t id);
  [[nodiscard]] std::optional<HourRollup> hourly_row(std::uint16_t meter, const char* where_order,
                                                     UtcMicros a, UtcMicros b);
  [[nodiscard]] std::optional<HourRollup> last_restart_row(std::uint16_t meter, UtcMicros from,
                                                           UtcMicros to);
  // A read query prepared once per store and kept (the bill asks a few per meter); reset and
  // unbound before it is returned. Not for a query whose caller may ask it again while
  // stepping it (a callback).
  [[nodiscard]] SQLite::Statement& cached(const std::string& sql);

  SQLite::Database db_;
  StoreOptions options_;
  bool in_tx_ = false;
  Counters next_, at_begin_;
  std::optional<Observation> unwritten_;     // journaled, row not yet written (see journal())
  std::vector<Reading> unwritten_readings_;  // decided in the open batch (see apply())
  std::unique_ptr<SqliteRollups> rollups_;
  std::unique_ptr<SqliteValidatorState> validator_state_;
  std::unique_ptr<SQLite::Statement> ins_frame_, ins_reading_, del_reading_, ins_rejected_,
      ins_pending_, del_pending_, ins_event_, retract_events_, upsert_meter_, ins_outbox_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> cached_;
};

}  // namespace imsm::collector
