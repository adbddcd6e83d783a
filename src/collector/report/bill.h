// A bill (SPEC "Billing", docs/collector.md "Billing"): pure functions from one meter's
// readings and its tariff to a bill line, and from lines to totals. No database here
// (bill_source.h reads the store), so every rule is unit tested on plain structs.
//
// Per line, for the period [from, to) in a time zone:
//   energy    Wh from the exact interpolation (derive/consumption.h), priced by the tariff's
//             flat, time-of-use or tiered energy rate (tariff.h: anchored rounding)
//   demand    the period's own peak (derive/period_demand.h), the method named;
//             demand charge = W x price per kW / 1000, rounded once to the cent, half up
//   fixed     the tariff's fixed charge per meter; minimum: a top-up to the tariff's minimum
//   final     the end boundary is bracketed by readings (a reading at or after `to`) and that
//             reading is settled: a later one exists, since the validator may retract only a
//             meter's newest reading. The start then is bracketed too (or the meter was first
//             heard inside the period). Otherwise the line is provisional: its kWh may still
//             change when readings arrive.
//   flags     provisional, no_consumption (2+ readings in the period, 0 Wh),
//             low_receive_ratio (below 90 % of the cadence's frames), replaced (2+ epochs),
//             unassigned (not in the configuration's registry)
// An unassigned meter, or any line of an energy-only bill, carries no tariff and no charge.
// Totals are per tenant and currency and per currency, sums of the lines' rounded charges;
// amounts in different currencies are never added.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/derive/consumption.h"
#include "collector/derive/period_demand.h"
#include "collector/report/tariff.h"
#include "collector/report/tz.h"
#include "collector/store/store.h"

namespace imsm::collector {

inline constexpr std::int64_t kLowReceivePermille = 900;

struct BillLine {
  MeterInfo meter;
  bool assigned = true;
  bool charged = false;
  std::string tariff, currency;  // empty when not charged
  Consumption consumption;
  bool final = false;
  PeriodDemand demand;
  std::vector<EnergyPart> energy;
  std::int64_t readings = 0;  // readings in [from, to)
  std::int64_t expected = 0;  // frames the cadence promised in that time
  std::int64_t energy_cents = 0, demand_cents = 0, fixed_cents = 0, minimum_cents = 0,
               total_cents = 0;
  std::vector<std::string> flags;
};

struct Totals {
  std::string tenant;    // empty in the per-currency totals
  std::string currency;  // empty: lines without charges
  std::int64_t meters = 0;
  std::int64_t wh = 0;
  std::int64_t energy_cents = 0, demand_cents = 0, fixed_cents = 0, minimum_cents = 0,
               total_cents = 0;
};

struct Bill {
  UtcMicros from = 0, to = 0;
  std::string tz = "UTC";
  bool energy_only = false;
  std::vector<BillLine> lines;
  std::vector<Totals> tenants;  // by tenant, then currency
  std::vector<Totals> totals;   // by currency
  std::int64_t provisional = 0, meters_reset = 0, unassigned = 0;
  // Lines computed from hourly rollups (bill_source.cpp), not printed: the rest read readings.
  std::int64_t lines_from_rollups = 0;
};

// What a line needs beyond the meter's readings.
struct LineContext {
  UtcMicros from = 0, to = 0;
  const TimeZone* tz = nullptr;
  std::int64_t cadence_us = 300 * kMicrosPerSecond;
  UtcMicros store_clock = 0;  // the newest reading in the store: frames are due until then
};

// `points`: the meter's readings around [from, to) (bill_source.h load_points); `tariff` null
// for a line without charges.
[[nodiscard]] BillLine bill_line(MeterInfo meter, bool assigned, const Tariff* tariff,
                                 const std::vector<Point>& points, const LineContext& ctx);

// What a line is made of, read from the meter's readings (the overload above) or from its
// hourly rollups (bill_source.cpp); the same facts give the same line.
struct LineFacts {
  Consumption consumption;
  bool final = false;
  PeriodDemand demand;
  std::int64_t readings = 0;          // in [from, to)
  std::optional<UtcMicros> first_at;  // the meter's first point (points.front())
  std::vector<EnergyPart> energy;     // priced by the line's tariff, if any
};
[[nodiscard]] BillLine bill_line(MeterInfo meter, bool assigned, const Tariff* tariff,
                                 LineFacts facts, const LineContext& ctx);

// Orders nothing: lines stay in the given order; fills the totals and counts.
[[nodiscard]] Bill assemble_bill(UtcMicros from, UtcMicros to, const std::string& tz,
                                 bool energy_only, std::vector<BillLine> lines);

}  // namespace imsm::collector
