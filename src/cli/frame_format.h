// Text forms of a located frame: the JSON line of the decode contract and a table row.
#pragma once

#include <string>
#include <string_view>

#include "protocol/stream_framer.h"

namespace imsm::cli {

// {"offset":0,"meter_id":2578,"peak_demand_counts":3313,"peak_demand_kw":66.26,
//  "demand_resets":195,"total_kwh":678299,"raw":"000a12..0d"} plus "time_s" and "burst"
// when arrival times are known, and "at" (ISO 8601 UTC wall-clock time) when `at` is given
// (a live port). Appends a newline.
void append_frame_json(std::string& out, const protocol::LocatedFrame& f, std::string_view at = {});

// Table: the header's columns sit above their data, with or without timing columns.
void append_table_header(std::string& out, bool timed, bool wall_clock = false);
void append_table_row(std::string& out, const protocol::LocatedFrame& f, bool timed,
                      std::string_view at = {});

// CSV (RFC 4180): the JSON keys as the header, one row per frame.
void append_csv_header(std::string& out, bool timed, bool wall_clock = false);
void append_csv_row(std::string& out, const protocol::LocatedFrame& f, bool timed,
                    std::string_view at = {});

}  // namespace imsm::cli
