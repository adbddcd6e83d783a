// The bill's data access (docs/collector.md "Billing"): the one place that reads the store
// for a bill, through the typed Store queries only, so the store can serve these from its
// rollups without the billing rules (bill.h) changing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/report/bill.h"
#include "collector/report/tz.h"
#include "collector/store/store.h"

namespace imsm::collector {

// One meter's points in [from, to] plus the last before and the first two after.
[[nodiscard]] std::vector<Point> load_points(Store& store, std::uint16_t meter, UtcMicros from,
                                             UtcMicros to);

struct BillRequest {
  UtcMicros from = 0, to = 0;
  const TimeZone* tz = nullptr;       // null: UTC
  std::optional<std::string> tenant;  // exact name (resolve_tenant)
  bool energy_only = false;           // no charges at all
  std::string unassigned_tariff;      // charge unassigned meters at this tariff
  // Bill a meter from its hourly rollups when they give exactly what its readings give
  // (docs/collector.md "Billing from rollups"); false: every line from readings.
  bool from_rollups = true;
};

[[nodiscard]] Bill make_bill(Store& store, const CollectorConfig& config, const BillRequest& r);

// One meter's line facts from its hourly rollups and the few readings at the period's edges,
// for a period of whole UTC hours; nullopt when the rollups cannot give exactly what
// bill_line computes from the readings (then the caller reads them). `slices`: the tariff's
// tou_slices over the period (empty without TOU windows).
[[nodiscard]] std::optional<LineFacts> facts_from_rollups(Store& store, std::uint16_t meter,
                                                          const LineContext& ctx,
                                                          const Tariff* tariff,
                                                          const std::vector<TouSlice>& slices);
// UTC, charges where a tariff applies.
[[nodiscard]] Bill make_bill(Store& store, const CollectorConfig& config, UtcMicros from,
                             UtcMicros to, const std::optional<std::string>& tenant);

// The store's meters with the configuration's registry applied (the configuration wins).
[[nodiscard]] std::vector<MeterInfo> billed_meters(Store& store, const CollectorConfig& config);
// Tenant names known to the store or the configuration, sorted, each once.
[[nodiscard]] std::vector<std::string> tenant_names(const std::vector<MeterInfo>& meters);
// The known name equal to `given` ignoring ASCII case, nullopt when there is none.
[[nodiscard]] std::optional<std::string> resolve_tenant(const std::vector<std::string>& names,
                                                        const std::string& given);

}  // namespace imsm::collector
