// /api/report: the same bill as `imsmeter report` (report/bill_source.h make_bill, written by
// bill_format.h as csv or json) for from/to (local times in tz, else the configuration's
// billing.time_zone, else UTC), an optional tenant and energy_only.
#pragma once

#include "collector/config.h"
#include "collector/http/routes.h"

namespace imsm::collector::http {

[[nodiscard]] Body report_body(Store& store, const CollectorConfig& config, const Params& q);

}  // namespace imsm::collector::http
