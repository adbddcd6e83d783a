// Green Button (NAESB REQ.21 ESPI) interval data: an Atom feed with, per meter, a UsagePoint
// (electricity), a ReadingType (Wh, delivered, interval length) and one IntervalBlock of
// IntervalReadings (start in Unix seconds, duration, value in Wh). Intervals not fully
// covered by readings carry ReadingQuality 10 ("questionable"); intervals with no data are
// left out, as ESPI has no null value.
#pragma once

#include <string>
#include <vector>

#include "collector/report/interval.h"
#include "collector/report/tz.h"

namespace imsm::collector {

void write_green_button(const std::vector<IntervalRow>& rows, const TimeZone& tz, IntervalStep step,
                        std::string& out);

}  // namespace imsm::collector
