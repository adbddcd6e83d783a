// Checks of the stored rollups shared by the rollup and bill tests.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector/store/rollup.h"

namespace imsm::collector::test {

// rollups_daily holds, per UTC day with hourly rows, the fold of those rows (rollup.h:
// sums, OR, largest), here folded from the rows in C++.
inline void expect_days_fold_hours(const std::string& path, std::uint16_t meter,
                                   const std::vector<HourRollup>& hours) {
  std::map<UtcMicros, std::vector<HourRollup>> by_day;
  for (const auto& h : hours) by_day[day_start(h.hour)].push_back(h);
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT day_us, n, flags, peak_max_counts, quarter_peak_wh, reset_advances "
                      "FROM rollups_daily WHERE meter_id = ? ORDER BY day_us");
  q.bind(1, static_cast<int>(meter));
  std::size_t rows = 0;
  while (q.executeStep()) {
    ++rows;
    const auto it = by_day.find(q.getColumn(0).getInt64());
    ASSERT_NE(it, by_day.end()) << meter << " a day without hours";
    std::int64_t n = 0, adv = 0;
    int flags = 0, peak = 0;
    std::optional<std::int64_t> qpeak;
    for (const auto& h : it->second) {
      n += h.n;
      adv += h.reset_advances;
      flags |= h.flags;
      if (h.n > 0) peak = std::max(peak, static_cast<int>(h.peak_max_counts));
      if (h.quarter_peak_wh && (!qpeak || *h.quarter_peak_wh > *qpeak)) qpeak = h.quarter_peak_wh;
    }
    EXPECT_EQ(q.getColumn(1).getInt64(), n) << meter;
    EXPECT_EQ(q.getColumn(2).getInt(), flags) << meter;
    EXPECT_EQ(q.getColumn(3).isNull() ? 0 : q.getColumn(3).getInt(), peak) << meter;
    EXPECT_EQ(q.getColumn(4).isNull(), !qpeak) << meter;
    if (qpeak && !q.getColumn(4).isNull()) {
      EXPECT_EQ(q.getColumn(4).getInt64(), *qpeak) << meter;
    }
    EXPECT_EQ(q.getColumn(5).getInt64(), adv) << meter;
  }
  EXPECT_EQ(rows, by_day.size()) << meter;
}

}  // namespace imsm::collector::test
