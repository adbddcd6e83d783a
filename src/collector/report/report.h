// Billing report (docs/collector.md "Billing"): money and quantities as exact text.
//
// Money is exact: tariffs are integer micro-units (config.h); each charge is computed from
// exact integers and rounded once, to the cent, half up (bill.h, tariff.h). A line's total is
// the sum of its rounded charges; tenant and currency totals are sums of line totals, so
// every printed total adds up exactly.
#pragma once

#include <cstdint>
#include <string>

#include "collector/config.h"
#include "collector/report/bill_source.h"  // make_bill, load_points (callers of this header)

namespace imsm::collector {

// Rounded-once charge in cents of `amount x price_micros / divisor` (half up).
[[nodiscard]] std::int64_t charge_cents(std::int64_t amount, Micros price_micros,
                                        std::int64_t divisor);

// "1234.567" from Wh.
[[nodiscard]] std::string format_kwh(std::int64_t wh);
// "12.34" from cents.
[[nodiscard]] std::string format_cents(std::int64_t cents);

}  // namespace imsm::collector
