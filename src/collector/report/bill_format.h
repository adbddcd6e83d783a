// The bill as text (docs/collector.md "Billing"): a table for people (columns as wide as
// their widest value: no name is ever cut), CSV with one row per line and every field, and
// one JSON document. Times are printed in the bill's time zone with their offset.
#pragma once

#include <string>

#include "collector/report/bill.h"
#include "collector/report/tz.h"

namespace imsm::collector {

// format: "table", "csv" or "json".
void write_bill(const Bill& bill, const TimeZone& tz, const std::string& format, std::string& out);

}  // namespace imsm::collector
