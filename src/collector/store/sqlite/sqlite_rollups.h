// Hourly rollups kept by the SQLite store (rollup.h) in the same transaction as the readings.
//
// In order (the common case: a meter's next reading is later than its last), a meter's
// newest hour stays in memory, is updated per reading, and is written at flush() (before
// every commit); hours it leaves behind are final and written once. A reading out of order
// (a late decision) or a withdrawn one marks the meter for recomputation from the readings
// table at flush(), from the reading before the change to the reading after it, with
// compute_rollups. Both paths give the rows compute_rollups gives over all readings (tested).
// Daily rows: in order, the fold of the meter's final hours of its newest day is kept in
// memory (read once from the database when the meter is loaded) and written with the open
// hour at flush(); a day whose hours a recomputation rewrote is refolded from them in SQL.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "collector/store/rollup.h"

namespace imsm::collector {

// rollups_hourly's columns after (meter_id, hour_us), in the order rollup_row reads them.
extern const char* const kRollupValueColumns;
// The HourRollup of `meter` and `hour` from kRollupValueColumns starting at column `col`.
[[nodiscard]] HourRollup rollup_row(SQLite::Statement& q, int col, std::uint16_t meter,
                                    UtcMicros hour);

class SqliteRollups {
 public:
  explicit SqliteRollups(SQLite::Database& db);

  // A reading stored in the open batch (already in `readings`).
  void add(const Reading& r);
  // A reading of `meter` at `at` was inserted out of order or deleted.
  void changed(std::uint16_t meter, UtcMicros at);
  // Writes what the batch changed (before COMMIT, in the transaction).
  void flush();
  // Drops every in-memory row (after ROLLBACK; state is reloaded from the database).
  void forget();
  // Recomputes every stored rollup from the readings (migration).
  void rebuild_all();

 private:
  struct MeterRollup {
    std::optional<Reading> last;     // the meter's newest reading
    std::optional<HourRollup> open;  // its hour
    bool open_dirty = false;
    std::vector<HourRollup> done;      // hours left behind in this batch
    std::optional<DayRollup> day;      // the fold of the final hours of the newest day
    std::vector<DayRollup> days_done;  // days left behind in this batch, folded
  };
  struct Range {
    UtcMicros lo, hi;
  };

  [[nodiscard]] MeterRollup* load(const Reading& r);
  void advance(MeterRollup& m, const Reading& r);
  void recompute(std::uint16_t meter, Range range);
  void write(const HourRollup& h);
  void write_day(const DayRollup& d);
  void finish(MeterRollup& m, const HourRollup& h);
  void flush_days(MeterRollup& m);
  [[nodiscard]] DayRollup fold_final_hours(std::uint16_t meter, UtcMicros day, UtcMicros before);
  void refold_days();
  [[nodiscard]] std::optional<Reading> reading_before(std::uint16_t meter, UtcMicros t);
  [[nodiscard]] std::optional<Reading> reading_after(std::uint16_t meter, UtcMicros t);

  SQLite::Database& db_;
  SQLite::Statement upsert_, select_hour_, before_, after_, range_, later_, delete_range_,
      delete_day_, fold_day_, upsert_day_, fold_hours_;
  std::unordered_map<std::uint16_t, MeterRollup> meters_;
  std::map<std::uint16_t, Range> recompute_;
  std::set<std::pair<std::uint16_t, UtcMicros>> dirty_days_;  // (meter, day_start)
};

}  // namespace imsm::collector
