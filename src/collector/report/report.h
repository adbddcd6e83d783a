// Billing report (docs/collector.md "Billing"): a bill per meter and per tenant for a period.
//
// Money is exact: tariffs are integer micro-units (config.h); each charge is computed from
// exact integers and rounded once, to the cent, half up:
//   energy  = Wh x energy_per_kwh / 1000                      (Wh from derive/consumption.h)
//   demand  = peak counts x 20 W / 1000 x demand_per_kw       (peak: the register's largest
//                                                              value read in the period)
//   fixed   = fixed_per_meter
// A meter's total is the sum of its rounded charges; tenant and grand totals are sums of
// meter totals, so every printed total adds up exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/derive/consumption.h"
#include "collector/store/store.h"

namespace imsm::collector {

struct BillLine {
  MeterInfo meter;
  std::string tariff;
  std::string currency;
  Consumption consumption;
  std::uint16_t peak_counts = 0;             // register
  std::optional<std::int64_t> peak_15min_w;  // from 15-minute kWh differences
  std::uint32_t demand_resets = 0;
  std::int64_t readings = 0;  // readings in [from, to)
  std::int64_t expected = 0;  // frames the cadence promised in that time
  std::int64_t energy_cents = 0, demand_cents = 0, fixed_cents = 0, total_cents = 0;
};

struct TenantBill {
  std::string tenant;
  std::int64_t meters = 0;
  std::int64_t wh = 0;
  std::int64_t energy_cents = 0, demand_cents = 0, fixed_cents = 0, total_cents = 0;
};

struct Bill {
  UtcMicros from = 0, to = 0;
  std::string currency = "USD";
  std::vector<BillLine> lines;
  std::vector<TenantBill> tenants;
  TenantBill total;
};

// One meter's points in [from, to] plus the last before and the first after.
[[nodiscard]] std::vector<Point> load_points(Store& store, std::uint16_t meter, UtcMicros from,
                                             UtcMicros to);

// Rounded-once charge in cents of `amount x price_micros / divisor` (half up).
[[nodiscard]] std::int64_t charge_cents(std::int64_t amount, Micros price_micros,
                                        std::int64_t divisor);

[[nodiscard]] Bill make_bill(Store& store, const CollectorConfig& config, UtcMicros from,
                             UtcMicros to, const std::optional<std::string>& tenant);

// format: "table", "csv" or "json".
void write_bill(const Bill& bill, const std::string& format, std::string& out);

// "1234.567" from Wh.
[[nodiscard]] std::string format_kwh(std::int64_t wh);
// "12.34" from cents.
[[nodiscard]] std::string format_cents(std::int64_t cents);

}  // namespace imsm::collector
