// Readings stored in blocks of one meter and one hour (docs/collector.md "Store", schema 3).
//
// A block row of `reading_blocks` holds the readings of meter M received in UTC hour H
// (H = floor(received_at_us / 3600 s)) as a JSON array, ordered by time then frame id:
//   [[received_at_us, frame_id, epoch, total_kwh, kwh24, peak_demand_counts, demand_resets], ...]
// Why blocks: a per-reading index on (meter, time) cost ~4 us per reading at 10 M readings
// (each insert descends to one of 1,000 hot leaves, a cache miss per step); a block costs one
// index entry per meter-hour. Why a rowid table with a unique (meter, hour) index rather than
// a table clustered by (meter, hour): blocks are appended at the table's end instead of
// splitting 1,000 interior leaves (which copied whole 16 KiB pages: 356k against 667k
// readings/s on 10 M). JSON keeps the readings readable from plain SQL: the `readings` view
// expands the blocks with json_each.
//
// ReadingBlocks keeps each meter's newest block in memory while it fills and writes it when
// the meter moves to a later hour or at flush() (before every commit, in the same
// transaction). flush() then drops the readings it wrote, keeping only each meter's newest
// hour: a live collector of 1,000 meters holds no block between commits (its memory target is
// 10 MB), and the next reading of that hour reads its block back. Readings for an older hour
// (a held frame decided late, a retraction) are read, changed and written back at once.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/validate/validator.h"

namespace imsm::collector {

inline constexpr std::int64_t kBlockMicros = 3'600'000'000;  // one hour

// floor(t / 1 h): the block hour of a time (also correct before 1970).
[[nodiscard]] constexpr std::int64_t block_hour(UtcMicros t) {
  return t / kBlockMicros - (t % kBlockMicros < 0 ? 1 : 0);
}

// The JSON text of a block (readings already ordered).
void encode_block(const std::vector<Reading>& rows, std::string& out);
// Parses a block's JSON text into `out` (appended; meter_id set, source_id 0), ordered by
// time then frame id. False when the text is not a block (the store is input too).
[[nodiscard]] bool decode_block(std::string_view text, std::uint16_t meter,
                                std::vector<Reading>& out);

class ReadingBlocks {
 public:
  explicit ReadingBlocks(SQLite::Database& db);

  void add(const Reading& r);
  void remove(const Reading& r);  // by meter, hour and frame id
  // Writes every block changed since the last flush (inside the caller's transaction).
  void flush();
  // Forgets the blocks in memory (after a rollback or when the table was emptied).
  // Drops the cached blocks and resets the statements (after a rollback or a failed call).
  void forget() {
    open_.clear();
    for (auto* st : {&upsert_, &erase_, &select_one_, &newest_}) st->tryReset();
  }

  // The meter's blocks in hour order (descending when `newest_first`) with from_hour <= H <=
  // to_hour; `fn(std::vector<Reading>&)` returns false to stop. Call flush() first.
  template <class Fn>
  void each_block(std::uint16_t meter, std::int64_t from_hour, std::int64_t to_hour,
                  bool newest_first, Fn&& fn);

 private:
  struct Open {
    std::int64_t hour = std::numeric_limits<std::int64_t>::min();  // none yet
    bool loaded = true;  // `rows` holds the block (else it is on disk only)
    bool dirty = false;
    std::vector<Reading> rows;
  };
  Open& open_for(std::uint16_t meter, std::int64_t hour);
  std::vector<Reading> load(std::uint16_t meter, std::int64_t hour);
  void write(std::uint16_t meter, std::int64_t hour, const std::vector<Reading>& rows);
  static void insert_ordered(std::vector<Reading>& rows, const Reading& r);
  static bool erase_frame(std::vector<Reading>& rows, std::int64_t frame_id);
  [[noreturn]] static void corrupt(std::uint16_t meter, std::int64_t hour);
  static const char* range_sql(bool newest_first);

  SQLite::Database& db_;
  std::unordered_map<std::uint16_t, Open> open_;
  std::string text_;  // reused encoding buffer
  SQLite::Statement upsert_, erase_, select_one_, newest_;
  std::unique_ptr<SQLite::Statement> range_asc_, range_desc_;
  bool range_busy_ = false;
};

template <class Fn>
void ReadingBlocks::each_block(std::uint16_t meter, std::int64_t from_hour, std::int64_t to_hour,
                               bool newest_first, Fn&& fn) {
  // A callback may query the blocks again: a nested call prepares its own statement.
  std::unique_ptr<SQLite::Statement> own;
  if (range_busy_) own = std::make_unique<SQLite::Statement>(db_, range_sql(newest_first));
  auto& q = own ? *own : newest_first ? *range_desc_ : *range_asc_;
  const bool outer = !own;
  range_busy_ = true;
  q.reset();
  q.bind(1, static_cast<int>(meter));
  q.bind(2, from_hour);
  q.bind(3, to_hour);
  std::vector<Reading> rows;
  while (q.executeStep()) {
    rows.clear();
    const std::int64_t hour = q.getColumn(0).getInt64();
    const auto& col = q.getColumn(1);
    if (!decode_block(std::string_view(static_cast<const char*>(col.getBlob()),
                                       static_cast<std::size_t>(col.getBytes())),
                      meter, rows))
      corrupt(meter, hour);
    if (!fn(rows)) break;
  }
  q.reset();
  if (outer) range_busy_ = false;
}

}  // namespace imsm::collector
