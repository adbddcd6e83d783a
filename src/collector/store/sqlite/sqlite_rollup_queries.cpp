// The SQLite store's rollup queries (store.h): a meter's hourly rows, their fold over a
// period (the bill's fast path) and the register at quarter hours. A period's whole UTC days
// are folded from rollups_daily, its hours before the first and after the last whole day
// from rollups_hourly: a month is about 30 rows a meter instead of 720.
#include <string>

#include "collector/store/sqlite/sqlite_rollups.h"
#include "collector/store/sqlite/sqlite_rows.h"
#include "collector/store/sqlite/sqlite_store.h"

namespace imsm::collector {

using namespace sqlite;  // Done (sqlite_rows.h)

namespace {

// What rollup_span sums and maximises, in the order of kFoldColumns.
struct Fold {
  std::int64_t n = 0;
  std::uint8_t flags = 0;
  std::uint16_t peak_max_counts = 0;
  std::optional<std::int64_t> quarter_peak_wh;
  std::uint32_t reset_advances = 0;

  void add(const Fold& o) {
    n += o.n;
    flags |= o.flags;
    peak_max_counts = std::max(peak_max_counts, o.peak_max_counts);
    if (o.quarter_peak_wh && (!quarter_peak_wh || *o.quarter_peak_wh > *quarter_peak_wh))
      quarter_peak_wh = o.quarter_peak_wh;
    reset_advances += o.reset_advances;
  }
};

// Of both tables: rows with n = 0 keep peak_max_counts NULL, which max() skips.
constexpr const char* kFoldColumns =
    "coalesce(sum(n), 0), max(flags & 1) | max(flags & 2) | max(flags & 4) | max(flags & 8) | "
    "max(flags & 16), coalesce(max(peak_max_counts), 0), max(quarter_peak_wh), "
    "coalesce(sum(reset_advances), 0)";

// [from, to) split at UTC days: the hours before the first whole day, the whole days, the
// hours after the last (days empty when the period holds no whole day).
struct Split {
  UtcMicros from, days_from, days_to, to;
};
Split split_days(UtcMicros from, UtcMicros to) {
  const UtcMicros d1 = day_start(from) == from ? from : day_start(from) + kDayMicros;
  const UtcMicros d2 = day_start(to);
  if (d1 >= d2) return Split{from, to, to, to};
  return Split{from, d1, d2, to};
}

}  // namespace

void SqliteStore::each_rollup(std::uint16_t meter, UtcMicros from, UtcMicros to,
                              const std::function<void(const HourRollup&)>& fn) {
  SQLite::Statement q(db_, std::string("SELECT hour_us, ") + kRollupValueColumns +
                               " FROM rollups_hourly WHERE meter_id = ? AND hour_us >= ? AND "
                               "hour_us < ? ORDER BY hour_us");
  q.bind(1, static_cast<int>(meter));
  q.bind(2, from);
  q.bind(3, to);
  while (q.executeStep()) fn(rollup_row(q, 1, meter, q.getColumn(0).getInt64()));
}

namespace {

Fold fold_query(SQLite::Statement& q, std::uint16_t meter, UtcMicros from, UtcMicros to) {
  Fold f;
  if (to <= from) return f;
  const Done done{q};
  q.bind(1, static_cast<int>(meter));
  q.bind(2, from);
  q.bind(3, to);
  if (!q.executeStep()) return f;
  f.n = q.getColumn(0).getInt64();
  f.flags = static_cast<std::uint8_t>(q.getColumn(1).getInt64());
  f.peak_max_counts = static_cast<std::uint16_t>(q.getColumn(2).getInt64());
  if (!q.getColumn(3).isNull()) f.quarter_peak_wh = q.getColumn(3).getInt64();
  f.reset_advances = static_cast<std::uint32_t>(q.getColumn(4).getInt64());
  return f;
}

}  // namespace

// fold_rollups in SQL (no row leaves SQLite but the few a bill reads whole).
RollupSpan SqliteStore::rollup_span(std::uint16_t meter, UtcMicros from, UtcMicros to) {
  auto& hours = cached(std::string("SELECT ") + kFoldColumns +
                       " FROM rollups_hourly WHERE meter_id = ? AND hour_us >= ? AND hour_us < ?");
  auto& days = cached(std::string("SELECT ") + kFoldColumns +
                      " FROM rollups_daily WHERE meter_id = ? AND day_us >= ? AND day_us < ?");
  auto fold = [&](UtcMicros a, UtcMicros b) {
    const Split sp = split_days(a, b);
    Fold f = fold_query(hours, meter, sp.from, sp.days_from);
    f.add(fold_query(days, meter, sp.days_from, sp.days_to));
    f.add(fold_query(hours, meter, sp.days_to, sp.to));
    return f;
  };
  const Fold all = fold(from, to);
  RollupSpan s;
  s.n = all.n;
  s.flags = all.flags;
  s.peak_max_counts = all.peak_max_counts;
  s.quarter_peak_wh = all.quarter_peak_wh;
  if (s.n == 0) return s;
  s.first = hourly_row(meter, "n > 0 ORDER BY hour_us", from, to);
  s.last = hourly_row(meter, "n > 0 ORDER BY hour_us DESC", from, to);
  if (s.flags & kRollupRestart) {
    s.last_restart = last_restart_row(meter, from, to);
    s.peak_after_restart_counts = fold(s.last_restart->hour + kHourMicros, to).peak_max_counts;
    s.reset_advances = all.reset_advances;
  }
  return s;
}

// The first or last hourly row in [a, b) by `where_order` (a condition and an ORDER BY).
std::optional<HourRollup> SqliteStore::hourly_row(std::uint16_t meter, const char* where_order,
                                                  UtcMicros a, UtcMicros b) {
  if (b <= a) return std::nullopt;
  auto& r = cached(std::string("SELECT hour_us, ") + kRollupValueColumns +
                   " FROM rollups_hourly WHERE meter_id = ? AND hour_us >= ? AND hour_us < ? AND " +
                   where_order + " LIMIT 1");
  const Done done{r};
  r.bind(1, static_cast<int>(meter));
  r.bind(2, a);
  r.bind(3, b);
  if (!r.executeStep()) return std::nullopt;
  return rollup_row(r, 1, meter, r.getColumn(0).getInt64());
}

// The last hourly row with readings and a restart in [from, to): searched in the hours after
// the last whole day, then by day (the last day with a restart, then its hours), then in the
// hours before the first whole day, so no search walks a month of hours.
std::optional<HourRollup> SqliteStore::last_restart_row(std::uint16_t meter, UtcMicros from,
                                                        UtcMicros to) {
  auto one = [&](const char* where_order, UtcMicros a, UtcMicros b) {
    return hourly_row(meter, where_order, a, b);
  };
  constexpr const char* kLast = "n > 0 AND (flags & 1) ORDER BY hour_us DESC";
  const Split sp = split_days(from, to);
  if (auto h = one(kLast, sp.days_to, sp.to)) return h;
  if (sp.days_to > sp.days_from) {
    auto& q = cached(
        "SELECT day_us FROM rollups_daily WHERE meter_id = ? AND day_us >= ? AND day_us < ? AND "
        "(flags & 1) ORDER BY day_us DESC LIMIT 1");
    std::optional<UtcMicros> day;
    {
      const Done done{q};
      q.bind(1, static_cast<int>(meter));
      q.bind(2, sp.days_from);
      q.bind(3, sp.days_to);
      if (q.executeStep()) day = q.getColumn(0).getInt64();
    }
    if (day) return one(kLast, *day, *day + kDayMicros);
  }
  return one(kLast, sp.from, sp.days_from);
}

std::vector<UtcMicros> SqliteStore::flagged_hours(std::uint16_t meter, UtcMicros from, UtcMicros to,
                                                  std::uint8_t flags) {
  auto& q = cached(
      "SELECT hour_us FROM rollups_hourly WHERE meter_id = ? AND hour_us >= ? AND hour_us < ? "
      "AND (flags & ?) ORDER BY hour_us");
  const Done done{q};
  q.bind(1, static_cast<int>(meter));
  q.bind(2, from);
  q.bind(3, to);
  q.bind(4, static_cast<int>(flags));
  std::vector<UtcMicros> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  return out;
}

std::vector<std::optional<std::int64_t>> SqliteStore::register_wh_at(
    std::uint16_t meter, const std::vector<UtcMicros>& at) {
  std::vector<std::optional<std::int64_t>> out;
  out.reserve(at.size());
  auto& q = cached(
      "SELECT start_wh, q15_wh, q30_wh, q45_wh FROM rollups_hourly WHERE meter_id = ? AND "
      "hour_us = ?");
  const Done done{q};
  for (const UtcMicros t : at) {
    const UtcMicros h = hour_start(t);
    const auto k = static_cast<int>((t - h) / kQuarterMicros);
    std::optional<std::int64_t> v;
    if ((t - h) % kQuarterMicros == 0) {
      q.bind(1, static_cast<int>(meter));
      q.bind(2, h);
      if (q.executeStep() && !q.getColumn(k).isNull()) v = q.getColumn(k).getInt64();
      q.reset();
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace imsm::collector
