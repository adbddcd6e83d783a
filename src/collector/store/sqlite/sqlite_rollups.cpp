#include "collector/store/sqlite/sqlite_rollups.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "collector/store/sqlite/sqlite_rows.h"

namespace imsm::collector {

namespace {

std::string sql(const char* head, const char* tail) {
  return std::string("SELECT ") + sqlite::kReadingColumns + " FROM readings WHERE " + head + tail;
}

bool before_in_order(const Reading& a, const Reading& b) {
  return a.received_at < b.received_at ||
         (a.received_at == b.received_at && a.frame_id < b.frame_id);
}

std::string upsert_sql() {
  // An upsert, not INSERT OR REPLACE: REPLACE deletes and reinserts under a statement journal.
  std::string cols = kRollupValueColumns, marks, sets;
  std::size_t at = 0;
  while (at != std::string::npos) {
    const std::size_t comma = cols.find(',', at);
    std::string c = cols.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    c.erase(0, c.find_first_not_of(' '));
    marks += ",?";
    sets += (sets.empty() ? "" : ", ") + c + " = excluded." + c;
    at = comma == std::string::npos ? comma : comma + 1;
  }
  return "INSERT INTO rollups_hourly(meter_id, hour_us, " + cols + ") VALUES (?,?" + marks +
         ") ON CONFLICT(meter_id, hour_us) DO UPDATE SET " + sets;
}

}  // namespace

const char* const kRollupValueColumns =
    "n, first_at_us, last_at_us, epoch_first, epoch_last, kwh_first, kwh_last, resets_first, "
    "resets_last, peak_max_counts, start_wh, start_epoch, q15_wh, q30_wh, q45_wh, "
    "quarter_peak_wh, peak_first_counts, peak_last_counts, peak_since_restart_counts, "
    "reset_advances, flags";

HourRollup rollup_row(SQLite::Statement& q, int col, std::uint16_t meter, UtcMicros hour) {
  auto i64 = [&](int k) { return q.getColumn(col + k).getInt64(); };
  auto opt = [&](int k) -> std::optional<std::int64_t> {
    if (q.getColumn(col + k).isNull()) return std::nullopt;
    return i64(k);
  };
  HourRollup h;
  h.meter_id = meter;
  h.hour = hour;
  h.n = i64(0);
  if (h.n > 0) {
    h.first_at = i64(1);
    h.last_at = i64(2);
    h.epoch_first = static_cast<std::uint32_t>(i64(3));
    h.epoch_last = static_cast<std::uint32_t>(i64(4));
    h.kwh_first = i64(5);
    h.kwh_last = i64(6);
    h.resets_first = static_cast<std::uint8_t>(i64(7));
    h.resets_last = static_cast<std::uint8_t>(i64(8));
    h.peak_max_counts = static_cast<std::uint16_t>(i64(9));
    h.peak_first_counts = static_cast<std::uint16_t>(i64(16));
    h.peak_last_counts = static_cast<std::uint16_t>(i64(17));
    h.peak_since_restart_counts = static_cast<std::uint16_t>(i64(18));
  }
  h.start_wh = opt(10);
  if (h.start_wh) h.start_epoch = static_cast<std::uint32_t>(i64(11));
  for (int k = 0; k < 3; ++k) h.quarter_wh[static_cast<std::size_t>(k)] = opt(12 + k);
  h.quarter_peak_wh = opt(15);
  h.reset_advances = static_cast<std::uint32_t>(i64(19));
  h.flags = static_cast<std::uint8_t>(i64(20));
  return h;
}

SqliteRollups::SqliteRollups(SQLite::Database& db)
    : db_(db),
      upsert_(db, upsert_sql()),
      select_hour_(db, std::string("SELECT ") + kRollupValueColumns +
                           " FROM rollups_hourly WHERE meter_id = ? AND hour_us = ?"),
      before_(db, sql("meter_id = ? AND received_at_us < ?",
                      " ORDER BY received_at_us DESC, frame_id DESC LIMIT 1")),
      after_(db, sql("meter_id = ? AND received_at_us > ?",
                     " ORDER BY received_at_us, frame_id LIMIT 1")),
      range_(db, sql("meter_id = ? AND received_at_us >= ? AND received_at_us < ?",
                     " ORDER BY received_at_us, frame_id")),
      later_(db,
             "SELECT 1 FROM readings WHERE meter_id = ? AND received_at_us >= ? AND NOT "
             "(received_at_us = ? AND frame_id = ?) LIMIT 1"),
      delete_range_(db,
                    "DELETE FROM rollups_hourly WHERE meter_id = ? AND hour_us BETWEEN ? AND ?"),
      delete_day_(db, "DELETE FROM rollups_daily WHERE meter_id = ? AND day_us = ?"),
      // No row when the day has no hourly rows left (GROUP BY over nothing).
      fold_day_(db,
                "INSERT INTO rollups_daily(meter_id, day_us, n, flags, peak_max_counts, "
                "quarter_peak_wh, reset_advances) SELECT meter_id, ?2, sum(n), max(flags & 1) | "
                "max(flags & 2) | max(flags & 4) | max(flags & 8) | max(flags & 16), "
                "max(peak_max_counts), max(quarter_peak_wh), sum(reset_advances) FROM "
                "rollups_hourly WHERE meter_id = ?1 AND hour_us >= ?2 AND hour_us < ?2 + " +
                    std::to_string(kDayMicros) + " GROUP BY meter_id"),
      upsert_day_(db,
                  "INSERT INTO rollups_daily(meter_id, day_us, n, flags, peak_max_counts, "
                  "quarter_peak_wh, reset_advances) VALUES (?, ?, ?, ?, ?, ?, ?) ON "
                  "CONFLICT(meter_id, day_us) DO UPDATE SET n = excluded.n, flags = "
                  "excluded.flags, peak_max_counts = excluded.peak_max_counts, quarter_peak_wh = "
                  "excluded.quarter_peak_wh, reset_advances = excluded.reset_advances"),
      fold_hours_(db,
                  "SELECT coalesce(sum(n), 0), coalesce(max(flags & 1) | max(flags & 2) | "
                  "max(flags & 4) | max(flags & 8) | max(flags & 16), 0), max(peak_max_counts), "
                  "max(quarter_peak_wh), coalesce(sum(reset_advances), 0) FROM rollups_hourly "
                  "WHERE meter_id = ? AND hour_us >= ? AND hour_us < ?") {}

std::optional<Reading> SqliteRollups::reading_before(std::uint16_t meter, UtcMicros t) {
  before_.bind(1, static_cast<int>(meter));
  before_.bind(2, t);
  std::optional<Reading> r;
  if (before_.executeStep()) r = sqlite::reading_from(before_, 0);
  before_.reset();
  return r;
}

std::optional<Reading> SqliteRollups::reading_after(std::uint16_t meter, UtcMicros t) {
  after_.bind(1, static_cast<int>(meter));
  after_.bind(2, t);
  std::optional<Reading> r;
  if (after_.executeStep()) r = sqlite::reading_from(after_, 0);
  after_.reset();
  return r;
}

// A meter's state from the database, for its first reading of this process or after a
// rollback: its reading before `r` and that reading's hour row (nullptr: recompute instead).
SqliteRollups::MeterRollup* SqliteRollups::load(const Reading& r) {
  // r is not the meter's newest when another reading is at or after its instant: a late
  // reading, or one of another source heard later (a replay of a second bus with the same ID).
  later_.bind(1, static_cast<int>(r.meter_id));
  later_.bind(2, r.received_at);
  later_.bind(3, r.received_at);
  later_.bind(4, r.frame_id);
  const bool later = later_.executeStep();
  later_.reset();
  if (later) return nullptr;
  MeterRollup m;
  m.last = reading_before(r.meter_id, r.received_at);
  if (m.last) {
    select_hour_.bind(1, static_cast<int>(r.meter_id));
    select_hour_.bind(2, hour_start(m.last->received_at));
    if (select_hour_.executeStep())
      m.open = rollup_row(select_hour_, 0, r.meter_id, hour_start(m.last->received_at));
    select_hour_.reset();
    if (!m.open || m.open->last_at != m.last->received_at) return nullptr;
    const UtcMicros day = day_start(m.open->hour);
    m.day = fold_final_hours(r.meter_id, day, m.open->hour);
  }
  return &(meters_[r.meter_id] = std::move(m));
}

void SqliteRollups::add(const Reading& r) {
  if (auto it = recompute_.find(r.meter_id); it != recompute_.end()) {
    it->second.lo = std::min(it->second.lo, r.received_at);
    it->second.hi = std::max(it->second.hi, r.received_at);
    return;
  }
  auto it = meters_.find(r.meter_id);
  MeterRollup* m = it != meters_.end() ? &it->second : load(r);
  if (!m || (m->last && !before_in_order(*m->last, r))) {
    changed(r.meter_id, r.received_at);
    return;
  }
  advance(*m, r);
}

// The in-order step: `r` is later than every reading of its meter. Every boundary (hour start
// and quarter) between the meter's last reading and r is bracketed by the two.
void SqliteRollups::advance(MeterRollup& m, const Reading& r) {
  const UtcMicros hour = hour_start(r.received_at);
  const Reading* last = m.last ? &*m.last : nullptr;
  if (m.open && m.open->hour == hour) {
    set_boundaries(*m.open, last, r, false);
    add_reading(*m.open, r, last);
    set_quarter_peak(*m.open, std::nullopt);
    m.open_dirty = true;
    m.last = r;
    return;
  }
  if (m.open && last) {
    // The hour left behind: its quarters after the last reading, and its last quarter's end.
    set_boundaries(*m.open, last, r, false);
    set_quarter_peak(*m.open, boundary_value(last, r, m.open->hour + kHourMicros, false));
    finish(m, *m.open);
  } else if (m.open && m.open_dirty) {
    finish(m, *m.open);
  }
  if (last) {
    // Hours between the last reading's and this one's: their boundaries are bracketed by
    // the two (when close enough); rows with n = 0.
    const UtcMicros first_gap = hour_start(last->received_at) + kHourMicros;
    if (hour - first_gap <= kMaxGapHours * kHourMicros)
      for (UtcMicros h = first_gap; h < hour; h += kHourMicros) {
        HourRollup gap;
        gap.meter_id = r.meter_id;
        gap.hour = h;
        set_boundaries(gap, last, r, true);
        if (!gap.start_wh) continue;
        set_quarter_peak(gap, boundary_value(last, r, h + kHourMicros, false));
        finish(m, gap);
      }
  }
  HourRollup row;
  row.meter_id = r.meter_id;
  row.hour = hour;
  add_reading(row, r, last);
  set_boundaries(row, last, r, false);
  set_quarter_peak(row, std::nullopt);
  m.open = row;
  m.open_dirty = true;
  m.last = r;
}

void SqliteRollups::changed(std::uint16_t meter, UtcMicros at) {
  // The hours this batch left behind (and the open one) are written before the meter's
  // in-memory state goes: the recomputation covers only the hours around the change.
  if (auto it = meters_.find(meter); it != meters_.end()) {
    // Their days are refolded from the rows in SQL (the in-memory fold goes with the state).
    auto out = [&](const HourRollup& h) {
      write(h);
      dirty_days_.emplace(meter, day_start(h.hour));
    };
    for (const auto& h : it->second.done) out(h);
    if (it->second.open && it->second.open_dirty) out(*it->second.open);
    meters_.erase(it);
  }
  auto [it, fresh] = recompute_.try_emplace(meter, Range{at, at});
  if (!fresh) {
    it->second.lo = std::min(it->second.lo, at);
    it->second.hi = std::max(it->second.hi, at);
  }
}

// An hour left behind by the in-order path: written at flush, and folded into its day.
void SqliteRollups::finish(MeterRollup& m, const HourRollup& h) {
  m.done.push_back(h);
  const UtcMicros day = day_start(h.hour);
  if (m.day && m.day->day != day) {
    m.days_done.push_back(*m.day);
    m.day.reset();
  }
  if (!m.day) m.day = DayRollup::empty(h.meter_id, day);
  m.day->add(h);
}

// The daily rows of an in-order meter that changed in this batch: the days it left behind,
// and its newest day (its final hours and the open one).
void SqliteRollups::flush_days(MeterRollup& m) {
  for (const auto& d : m.days_done) write_day(d);
  m.days_done.clear();
  if (!m.open) return;
  const UtcMicros day = day_start(m.open->hour);
  if (m.day && m.day->day != day) {
    write_day(*m.day);
    m.day.reset();
  }
  DayRollup newest = m.day ? *m.day : DayRollup::empty(m.open->meter_id, day);
  newest.add(*m.open);
  write_day(newest);
}

DayRollup SqliteRollups::fold_final_hours(std::uint16_t meter, UtcMicros day, UtcMicros before) {
  DayRollup d = DayRollup::empty(meter, day);
  auto& q = fold_hours_;
  q.bind(1, static_cast<int>(meter));
  q.bind(2, day);
  q.bind(3, before);
  if (q.executeStep()) {
    d.n = q.getColumn(0).getInt64();
    d.flags = static_cast<std::uint8_t>(q.getColumn(1).getInt64());
    if (!q.getColumn(2).isNull())
      d.peak_max_counts = static_cast<std::uint16_t>(q.getColumn(2).getInt64());
    if (!q.getColumn(3).isNull()) d.quarter_peak_wh = q.getColumn(3).getInt64();
    d.reset_advances = static_cast<std::uint32_t>(q.getColumn(4).getInt64());
  }
  q.reset();
  return d;
}

void SqliteRollups::write_day(const DayRollup& d) {
  auto& s = upsert_day_;
  s.bind(1, static_cast<int>(d.meter_id));
  s.bind(2, d.day);
  s.bind(3, d.n);
  s.bind(4, static_cast<int>(d.flags));
  if (d.peak_max_counts)
    s.bind(5, static_cast<int>(*d.peak_max_counts));
  else
    s.bind(5);
  if (d.quarter_peak_wh)
    s.bind(6, *d.quarter_peak_wh);
  else
    s.bind(6);
  s.bind(7, static_cast<std::int64_t>(d.reset_advances));
  s.exec();
  s.reset();
}

void SqliteRollups::write(const HourRollup& h) {
  auto& s = upsert_;
  auto opt = [&](int c, const std::optional<std::int64_t>& v) {
    if (v)
      s.bind(c, *v);
    else
      s.bind(c);
  };
  s.bind(1, static_cast<int>(h.meter_id));
  s.bind(2, h.hour);
  s.bind(3, h.n);
  if (h.n > 0) {
    s.bind(4, h.first_at);
    s.bind(5, h.last_at);
    s.bind(6, static_cast<std::int64_t>(h.epoch_first));
    s.bind(7, static_cast<std::int64_t>(h.epoch_last));
    s.bind(8, h.kwh_first);
    s.bind(9, h.kwh_last);
    s.bind(10, static_cast<int>(h.resets_first));
    s.bind(11, static_cast<int>(h.resets_last));
    s.bind(12, static_cast<int>(h.peak_max_counts));
    s.bind(19, static_cast<int>(h.peak_first_counts));
    s.bind(20, static_cast<int>(h.peak_last_counts));
    s.bind(21, static_cast<int>(h.peak_since_restart_counts));
  } else {
    for (int c : {4, 5, 6, 7, 8, 9, 10, 11, 12, 19, 20, 21}) s.bind(c);
  }
  opt(13, h.start_wh);
  opt(14, h.start_wh ? std::optional<std::int64_t>(h.start_epoch) : std::nullopt);
  for (int k = 0; k < 3; ++k) opt(15 + k, h.quarter_wh[static_cast<std::size_t>(k)]);
  opt(18, h.quarter_peak_wh);
  s.bind(22, static_cast<std::int64_t>(h.reset_advances));
  s.bind(23, static_cast<int>(h.flags));
  s.exec();
  s.reset();
}

void SqliteRollups::flush() {
  for (auto& [id, m] : meters_) {
    const bool changed = m.open_dirty || !m.done.empty();
    for (const auto& h : m.done) write(h);
    m.done.clear();
    if (m.open && m.open_dirty) write(*m.open);
    m.open_dirty = false;
    if (changed) flush_days(m);
  }
  for (const auto& [meter, range] : recompute_) recompute(meter, range);
  recompute_.clear();
  refold_days();
}

void SqliteRollups::refold_days() {
  for (const auto& [meter, day] : dirty_days_) {
    for (auto* st : {&delete_day_, &fold_day_}) {
      st->bind(1, static_cast<int>(meter));
      st->bind(2, day);
      st->exec();
      st->reset();
    }
  }
  dirty_days_.clear();
}

void SqliteRollups::forget() {
  meters_.clear();
  recompute_.clear();
  dirty_days_.clear();
  for (auto* st : {&upsert_, &select_hour_, &before_, &after_, &range_, &later_, &delete_range_,
                   &delete_day_, &fold_day_, &upsert_day_, &fold_hours_})
    st->tryReset();
}

// From the hour of the reading before the change to the hour of the reading after it (a late
// or withdrawn reading moves the boundary values on both sides of it); rows in between are
// replaced by compute_rollups over the readings of those hours.
void SqliteRollups::recompute(std::uint16_t meter, Range range) {
  const auto before_change = reading_before(meter, range.lo);
  const auto after_change = reading_after(meter, range.hi);
  const UtcMicros first_hour = hour_start(before_change ? before_change->received_at : range.lo);
  const UtcMicros last_hour = hour_start(after_change ? after_change->received_at : range.hi);
  const auto before = reading_before(meter, first_hour);
  std::vector<Reading> rows;
  range_.bind(1, static_cast<int>(meter));
  range_.bind(2, first_hour);
  range_.bind(3, last_hour + kHourMicros);
  while (range_.executeStep()) rows.push_back(sqlite::reading_from(range_, 0));
  range_.reset();
  const auto after = reading_after(meter, last_hour + kHourMicros - 1);
  delete_range_.bind(1, static_cast<int>(meter));
  delete_range_.bind(2, first_hour);
  delete_range_.bind(3, last_hour);
  delete_range_.exec();
  delete_range_.reset();
  for (UtcMicros d = day_start(first_hour); d <= last_hour; d += kDayMicros)
    dirty_days_.emplace(meter, d);
  for (const auto& h : compute_rollups(meter, before, rows, first_hour, last_hour, after)) write(h);
}

void SqliteRollups::rebuild_all() {
  // Minutes on a large database (a migration): progress every 1,000 meters.
  const auto meters = db_.execAndGet("SELECT count(*) FROM meters").getInt64();
  spdlog::info("rollups: rebuilding from the readings of up to {} meters", meters);
  SQLite::Statement q(db_,
                      "SELECT meter_id, min(received_at_us), max(received_at_us) FROM readings "
                      "GROUP BY meter_id");
  std::int64_t done = 0;
  while (q.executeStep()) {
    recompute(static_cast<std::uint16_t>(q.getColumn(0).getInt()),
              Range{q.getColumn(1).getInt64(), q.getColumn(2).getInt64()});
    if (++done % 1000 == 0) spdlog::info("rollups: {} of {} meters", done, meters);
  }
  refold_days();
  meters_.clear();
}

}  // namespace imsm::collector
