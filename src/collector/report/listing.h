// Text forms of stored readings, events, meters and source counters for `imsmeter readings`,
// `events` and `meters`: jsonl (one object per line), csv (header + rows) or table.
// Times are ISO 8601 UTC with "Z".
#pragma once

#include <string>

#include "collector/derive/consumption.h"
#include "collector/store/store.h"

namespace imsm::collector {

enum class ListFormat { Jsonl, Csv, Table };
// "jsonl"/"json", "csv", "table"; false otherwise.
[[nodiscard]] bool parse_list_format(const std::string& text, ListFormat& out);

void append_reading_header(std::string& out, ListFormat f);
void append_reading(std::string& out, ListFormat f, const StoredReading& r);

// Rejected frames (kept with their bytes, source, time and reason): Store::rejections.
void append_rejection_header(std::string& out, ListFormat f);
void append_rejection(std::string& out, ListFormat f, const StoredRejection& r);

// Consumption per meter per bucket (hourly or daily rollups), exact Wh.
void append_rollup_header(std::string& out, ListFormat f);
void append_rollup(std::string& out, ListFormat f, std::uint16_t meter, UtcMicros start,
                   UtcMicros end, std::int64_t wh);

void append_event_header(std::string& out, ListFormat f);
void append_event(std::string& out, ListFormat f, const StoredEvent& e);

struct MeterSummary {
  MeterInfo info;
  std::int64_t readings = 0;
  std::int64_t rejected = 0;
  std::optional<Point> last;
};
[[nodiscard]] std::vector<MeterSummary> meter_summaries(Store& store);
void append_meter_header(std::string& out, ListFormat f);
void append_meter(std::string& out, ListFormat f, const MeterSummary& m);

void append_source_header(std::string& out, ListFormat f);
void append_source(std::string& out, ListFormat f, const std::string& name,
                   const SourceCounters& c);

}  // namespace imsm::collector
