// Text forms of a located frame: the JSON line of the decode contract and a table row.
#pragma once

#include <string>

#include "protocol/stream_framer.h"

namespace imsm::cli {

// {"offset":0,"meter_id":2578,"peak_demand_counts":3313,"peak_demand_kw":66.26,
//  "demand_resets":195,"total_kwh":678299,"raw":"000a12..0d"} plus "time_s" and "burst"
// when arrival times are known. Appends a newline.
void append_frame_json(std::string& out, const protocol::LocatedFrame& f);

void append_table_header(std::string& out, bool timed);
void append_table_row(std::string& out, const protocol::LocatedFrame& f, bool timed);

}  // namespace imsm::cli
