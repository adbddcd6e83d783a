// The SQLite store's outbox reads, sink cursors and trimming (store.h "Outbox").
#include "collector/store/sqlite/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "collector/store/sqlite/sqlite_rollups.h"
#include "collector/store/sqlite/sqlite_rows.h"

namespace imsm::collector {

using namespace sqlite;  // the row decoders (sqlite_rows.h)

std::vector<OutboxItem> SqliteStore::outbox_after(std::uint64_t after, std::size_t limit) {
  SQLite::Statement q(db_,
                      "SELECT seq, kind, ref, meter_id, at_us, decides_provisional FROM outbox "
                      "WHERE seq > ? "
                      "ORDER BY seq LIMIT ?");
  q.bind(1, static_cast<std::int64_t>(after));
  q.bind(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxItem> out;
  while (q.executeStep()) {
    OutboxItem item;
    item.seq = static_cast<std::uint64_t>(q.getColumn(0).getInt64());
    item.kind = static_cast<OutboxKind>(q.getColumn(1).getInt());
    const std::int64_t ref = q.getColumn(2).getInt64();
    const auto meter = static_cast<std::uint16_t>(q.getColumn(3).getInt());
    const UtcMicros at = q.getColumn(4).getInt64();
    item.decides_provisional = q.getColumn(5).getInt() != 0;
    switch (item.kind) {
      case OutboxKind::Reading:
        // A reading withdrawn since has its own Retraction entry later in the outbox; this
        // entry still says what was published, from its frame.
        item.reading = reading_by_key(meter, at, ref);
        if (!item.reading) {
          item.reading = frame_as_reading(ref);
          item.withdrawn = true;
        }
        break;
      case OutboxKind::Retraction:
        item.reading = frame_as_reading(ref);
        item.withdrawn = true;
        break;
      case OutboxKind::Provisional:  // what the held frame says; a later entry decides it
        item.reading = frame_as_reading(ref);
        break;
      case OutboxKind::Rejection:
        item.rejection = rejection_of(ref);
        break;
      case OutboxKind::Event:
        item.event = event_by_id(ref);
        break;
    }
    out.push_back(std::move(item));
  }
  return out;
}

OutboxStatus SqliteStore::outbox_status() {
  OutboxStatus s;
  s.head = static_cast<std::uint64_t>(
      db_.execAndGet("SELECT coalesce(max(seq), 0) FROM outbox").getInt64());
  s.oldest = static_cast<std::uint64_t>(
      db_.execAndGet("SELECT coalesce(min(seq), 0) FROM outbox").getInt64());
  SQLite::Statement q(db_, "SELECT value FROM store_meta WHERE key = 'outbox_trimmed_unsent'");
  if (q.executeStep()) s.trimmed_unsent = static_cast<std::uint64_t>(q.getColumn(0).getInt64());
  // An empty table after trimming still has a head: the next sequence number minus one.
  s.head = std::max<std::uint64_t>(s.head, static_cast<std::uint64_t>(next_.next_seq - 1));
  return s;
}

std::uint64_t SqliteStore::sink_cursor(const std::string& sink) {
  SQLite::Statement q(db_, "SELECT seq FROM sink_cursors WHERE name = ?");
  q.bind(1, sink);
  if (q.executeStep()) return static_cast<std::uint64_t>(q.getColumn(0).getInt64());
  return 0;
}

void SqliteStore::save_sink_cursor(const std::string& sink, std::uint64_t seq) {
  SQLite::Statement u(db_,
                      "INSERT INTO sink_cursors(name, seq) VALUES (?, ?) "
                      "ON CONFLICT(name) DO UPDATE SET seq = max(seq, excluded.seq)");
  u.bind(1, sink);
  u.bind(2, static_cast<std::int64_t>(seq));
  u.exec();
}

std::vector<std::pair<std::string, std::uint64_t>> SqliteStore::sink_cursors() {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  SQLite::Statement q(db_, "SELECT name, seq FROM sink_cursors ORDER BY name");
  while (q.executeStep())
    out.emplace_back(q.getColumn(0).getString(),
                     static_cast<std::uint64_t>(q.getColumn(1).getInt64()));
  return out;
}

std::uint64_t SqliteStore::trim_outbox(std::uint64_t max_entries, std::uint64_t read_through) {
  const bool own_tx = !in_tx_;
  if (own_tx) begin();
  const std::int64_t head_before =
      db_.execAndGet("SELECT coalesce(max(seq), 0) FROM outbox").getInt64();
  // Everything every sink and every other reader has read (no sink yet: nothing is read, only
  // the bound applies).
  const auto slowest = db_.execAndGet("SELECT min(seq) FROM sink_cursors");
  if (!slowest.isNull()) {
    SQLite::Statement del(db_, "DELETE FROM outbox WHERE seq <= ?");
    const auto others = static_cast<std::int64_t>(
        std::min<std::uint64_t>(read_through, std::numeric_limits<std::int64_t>::max()));
    del.bind(1, std::min(slowest.getInt64(), others));
    del.exec();
  }
  std::uint64_t trimmed = 0;
  // Sequence numbers are contiguous (trimmed only from the front): no count(*) scan.
  const auto range = db_.execAndGet("SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM outbox");
  const auto n = static_cast<std::uint64_t>(range.getInt64());
  if (n > max_entries) {
    trimmed = n - max_entries;
    SQLite::Statement del(
        db_, "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)");
    del.bind(1, static_cast<std::int64_t>(trimmed));
    del.exec();
    SQLite::Statement u(
        db_, "UPDATE store_meta SET value = value + ? WHERE key = 'outbox_trimmed_unsent'");
    u.bind(1, static_cast<std::int64_t>(trimmed));
    u.exec();
  }
  // The highest sequence number trimmed: the next run numbers after it even when the outbox is
  // empty.
  const auto oldest = db_.execAndGet("SELECT min(seq) FROM outbox");
  SQLite::Statement through(db_,
                            "UPDATE store_meta SET value = max(value, ?) "
                            "WHERE key = 'outbox_trimmed_through'");
  through.bind(1, oldest.isNull() ? head_before : oldest.getInt64() - 1);
  through.exec();
  if (own_tx) commit();
  return trimmed;
}

}  // namespace imsm::collector
