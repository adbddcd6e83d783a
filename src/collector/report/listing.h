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
// All events as one table, columns as wide as their contents.
void append_event_table(std::string& out, const std::vector<StoredEvent>& events);

// A meter's status at the time of asking `as_of`: "waiting" (no reading yet), "online" (last
// reading at most `silent_after_us` before as_of), else "silent". Computed when asked, never
// taken from the collector's last run, so a database read weeks later shows the truth.
struct MeterStatusRule {
  UtcMicros as_of = 0;
  std::int64_t silent_after_us = 0;
};
// The collector's rule (ValidationSettings): silent after `silent_after_cadences` cadences.
[[nodiscard]] inline MeterStatusRule status_rule(UtcMicros as_of,
                                                 const ValidationSettings& v = {}) {
  return MeterStatusRule{as_of, v.cadence_s * v.silent_after_cadences * kMicrosPerSecond};
}

struct MeterSummary {
  MeterInfo info;
  std::int64_t readings = 0;
  std::int64_t rejected = 0;
  std::optional<Point> last;
  const char* status = "waiting";
};
[[nodiscard]] const char* meter_status(const std::optional<Point>& last, const MeterStatusRule& r);
[[nodiscard]] std::vector<MeterSummary> meter_summaries(Store& store, const MeterStatusRule& rule);
// One meter's summary from keyed queries (its row, its counts, its last reading); nullopt when
// the store has no such meter.
[[nodiscard]] std::optional<MeterSummary> meter_summary(Store& store, std::uint16_t id,
                                                        const MeterStatusRule& rule);
void append_meter_header(std::string& out, ListFormat f);
// jsonl and csv carry "as_of", the time the status refers to.
void append_meter(std::string& out, ListFormat f, const MeterSummary& m, UtcMicros as_of);
void append_meter_table(std::string& out, const std::vector<MeterSummary>& meters);

void append_source_header(std::string& out, ListFormat f);
void append_source(std::string& out, ListFormat f, const std::string& name,
                   const SourceCounters& c);
void append_source_table(std::string& out,
                         const std::vector<std::pair<std::string, SourceCounters>>& sources);

}  // namespace imsm::collector
