// Row decoders and column lists shared by the SQLite store's files (sqlite_store.cpp: the
// write path; sqlite_store_queries.cpp and sqlite_rollup_queries.cpp: the typed queries;
// sqlite_outbox.cpp: the outbox).
// Internal to store/sqlite.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "collector/store/store.h"

namespace imsm::collector::sqlite {

// Resets a cached statement when its use ends (also when a step throws).
struct Done {
  SQLite::Statement& q;
  ~Done() { q.tryReset(); }
};

template <class Row>
inline void bind_optional_meter(SQLite::Statement& s, int i, const std::optional<Row>& v) {
  if (v)
    s.bind(i, static_cast<int>(*v));
  else
    s.bind(i);
}

// A statement prepared with SQLite's own API, for a hot loop of integer columns; errors
// throw SQLite::Exception as SQLiteCpp's do.
class RawQuery {
 public:
  RawQuery(SQLite::Database& db, const std::string& sql) : db_(db.getHandle()) {
    if (const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st_, nullptr); rc != SQLITE_OK)
      throw SQLite::Exception(db_, rc);
  }
  RawQuery(const RawQuery&) = delete;
  RawQuery& operator=(const RawQuery&) = delete;
  ~RawQuery() { sqlite3_finalize(st_); }
  void bind(int i, std::int64_t v) {
    if (const int rc = sqlite3_bind_int64(st_, i, v); rc != SQLITE_OK)
      throw SQLite::Exception(db_, rc);
  }
  bool step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SQLite::Exception(db_, rc);
  }
  sqlite3_stmt* get() const { return st_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

// A reading from its columns in kReadingColumns' order; col(i) gives column i as an integer.
template <class Col>
inline Reading reading_of(Col&& col) {
  Reading r;
  r.meter_id = static_cast<std::uint16_t>(col(0));
  r.received_at = col(1);
  r.frame_id = col(2);
  r.epoch = static_cast<std::uint32_t>(col(3));
  r.total_kwh = col(4);
  r.kwh24 = static_cast<std::uint32_t>(col(5));
  r.peak_demand_counts = static_cast<std::uint16_t>(col(6));
  r.demand_resets = static_cast<std::uint8_t>(col(7));
  r.source_id = static_cast<std::uint32_t>(col(8));
  r.lead = static_cast<std::uint8_t>(col(9));
  return r;
}

inline Reading reading_from(SQLite::Statement& q, int c0) {
  return reading_of([&](int i) { return q.getColumn(c0 + i).getInt64(); });
}

// The same from a statement prepared with SQLite's own API (the listings' hot loop: a
// SQLite::Column copies a shared pointer per column, a tenth of the CPU of a meter's month).
inline Reading reading_from(sqlite3_stmt* q) {
  return reading_of([&](int i) { return sqlite3_column_int64(q, i); });
}

// The columns reading_from() reads, in its order.
inline constexpr const char* kReadingColumns =
    "meter_id, received_at_us, frame_id, epoch, total_kwh, kwh24, peak_demand_counts, "
    "demand_resets, source_id, lead_byte";

// A reading's frame, byte for byte (schema 10: its fields and first byte are all it holds).
inline protocol::RawFrame raw_of(const Reading& r) {
  protocol::Frame f;
  f.lead = r.lead;
  f.meter_id.value = r.meter_id;
  f.peak_demand.value = r.peak_demand_counts;
  f.demand_resets.value = r.demand_resets;
  f.total_kwh.value = r.kwh24;
  return protocol::encode(f);
}

inline void copy_raw(const SQLite::Column& blob, protocol::RawFrame& raw) {
  if (blob.getBytes() == static_cast<int>(raw.size()))
    std::memcpy(raw.data(), blob.getBlob(), raw.size());
}

inline Observation observation_from(SQLite::Statement& q) {
  Observation o;
  o.frame_id = q.getColumn(0).getInt64();
  o.received_at = q.getColumn(1).getInt64();
  o.source_id = static_cast<std::uint32_t>(q.getColumn(2).getInt64());
  o.stream_offset = static_cast<std::uint64_t>(q.getColumn(3).getInt64());
  o.burst = static_cast<protocol::Burst>(q.getColumn(4).getInt());
  copy_raw(q.getColumn(5), o.raw);
  return o;
}

inline EventKind event_kind_from_column(const std::string& text) {
  if (auto k = parse_event_kind(text)) return *k;
  throw std::runtime_error("events: unknown kind '" + text + "' in the database");
}

// Event detail is written by EventDetail::json (a flat object); read it back field by field.
inline EventDetail event_detail_from_json(const std::string& text) {
  EventDetail d;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return d.add("unparsed", text);
  for (const auto& [k, v] : j.items()) {
    if (v.is_boolean())
      d.add(k, v.get<bool>());
    else if (v.is_number_integer())
      d.add(k, v.get<std::int64_t>());
    else if (v.is_string())
      d.add(k, v.get<std::string>());
    else
      d.add(k, v.dump());
  }
  return d;
}

inline constexpr const char* kEventSelect =
    "SELECT e.id, e.at_us, e.kind, e.meter_id, e.source_id, e.detail, coalesce(s.name, ''), "
    "e.retracted FROM events e LEFT JOIN sources s ON s.id = e.source_id";

inline StoredEvent event_from(SQLite::Statement& q) {
  StoredEvent s;
  s.id = q.getColumn(0).getInt64();
  s.e.at = q.getColumn(1).getInt64();
  s.e.kind = event_kind_from_column(q.getColumn(2).getString());
  if (!q.getColumn(3).isNull()) s.e.meter_id = static_cast<std::uint16_t>(q.getColumn(3).getInt());
  if (!q.getColumn(4).isNull())
    s.e.source_id = static_cast<std::uint32_t>(q.getColumn(4).getInt64());
  s.e.detail = event_detail_from_json(q.getColumn(5).getString());
  s.source = q.getColumn(6).getString();
  s.retracted = q.getColumn(7).getInt() != 0;
  return s;
}

// CROSS JOIN keeps `rejected` the outer loop (SQLite never reorders a CROSS JOIN): without
// statistics the planner otherwise scans every journaled frame to find the few rejected ones
// (frames has no index on time or source), 0.3 s a query with 2.9 M frames.
inline constexpr const char* kRejectionSelect =
    "SELECT r.frame_id, r.meter_id, f.received_at_us, s.name, f.burst, r.reason, r.detail, "
    "f.raw FROM rejected r CROSS JOIN frames f ON f.id = r.frame_id CROSS JOIN sources s ON "
    "s.id = f.source_id";

inline StoredRejection rejection_from(SQLite::Statement& q) {
  StoredRejection r;
  r.frame_id = q.getColumn(0).getInt64();
  r.meter_id = static_cast<std::uint16_t>(q.getColumn(1).getInt());
  r.received_at = q.getColumn(2).getInt64();
  r.source = q.getColumn(3).getString();
  r.burst = q.getColumn(4).getInt();
  r.reason = q.getColumn(5).getString();
  r.detail = q.getColumn(6).getString();
  copy_raw(q.getColumn(7), r.raw);
  return r;
}

}  // namespace imsm::collector::sqlite
