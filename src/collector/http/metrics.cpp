#include "collector/http/metrics.h"

#include <fmt/format.h>

#include <limits>
#include <map>

#include "collector/http/prometheus_text.h"
#include "common/text.h"

namespace imsm::collector::http {

namespace {

constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
constexpr auto kMax = std::numeric_limits<std::int64_t>::max();

struct MeterSample {
  Labels labels;
  MeterInfo info;
  std::optional<Reading> last;
};

// Seconds as exact decimal text (microseconds, six fractional digits).
std::string seconds_text(std::int64_t us) {
  const char* sign = us < 0 ? "-" : "";
  const auto a = us < 0 ? -us : us;
  return fmt::format("{}{}.{:06}", sign, a / 1000000, a % 1000000);
}

// Family f's value for one meter (the order of append_meters' families); none without a reading.
std::optional<std::string> meter_value(std::size_t f, const MeterSample& m, UtcMicros now) {
  if (f == 4) return std::to_string(m.info.silent ? 1 : 0);
  if (f == 5) return std::to_string(m.info.registered ? 1 : 0);
  if (!m.last) return std::nullopt;
  switch (f) {
    case 0:
      return std::to_string(m.last->total_kwh);
    case 1:
      return kw_text(DemandCounts{m.last->peak_demand_counts});
    case 2:
      return std::to_string(m.last->demand_resets);
    default:
      return seconds_text(now - m.last->received_at);
  }
}

void append_meters(std::string& out, const std::vector<MeterSample>& meters, UtcMicros now) {
  struct Family {
    const char *name, *type, *help;
  };
  const Family fams[] = {
      {"imsmeter_energy_kwh_total", "counter", "Energy register of the last reading (kWh)"},
      {"imsmeter_peak_demand_kw", "gauge", "Peak demand of the last reading (kW, guide 2.4.2)"},
      {"imsmeter_demand_resets", "gauge", "Demand reset counter of the last reading"},
      {"imsmeter_last_reading_age_seconds", "gauge", "Seconds since the last accepted reading"},
      {"imsmeter_meter_silent", "gauge", "1 while the meter is silent (no recent reading)"},
      {"imsmeter_meter_registered", "gauge", "1 when the meter is in the configuration"},
  };
  for (std::size_t f = 0; f < std::size(fams); ++f) {
    append_family(out, fams[f].name, fams[f].type, fams[f].help);
    for (const auto& m : meters)
      if (auto v = meter_value(f, m, now)) append_sample(out, fams[f].name, m.labels, *v);
  }
}

void append_sources(std::string& out, Store& store) {
  const auto sources = store.sources();
  append_family(out, "imsmeter_source_bytes_total", "counter", "Bytes read from the source");
  for (const auto& [name, c] : sources)
    append_sample(out, "imsmeter_source_bytes_total", {{"source", name}},
                  std::to_string(c.bytes_in));
  append_family(out, "imsmeter_source_frames_total", "counter", "Frames framed from the source");
  for (const auto& [name, c] : sources)
    append_sample(out, "imsmeter_source_frames_total", {{"source", name}},
                  std::to_string(c.frames));
  append_family(out, "imsmeter_source_skipped_bytes_total", "counter",
                "Bytes skipped by the framer, by reason");
  for (const auto& [name, c] : sources) {
    const std::pair<const char*, std::uint64_t> reasons[] = {{"no_stop", c.skipped_no_stop},
                                                             {"padding", c.skipped_padding},
                                                             {"gap", c.skipped_gap},
                                                             {"end", c.skipped_end}};
    for (const auto& [reason, n] : reasons)
      append_sample(out, "imsmeter_source_skipped_bytes_total",
                    {{"source", name}, {"reason", reason}}, std::to_string(n));
  }
  std::map<std::pair<std::string, std::string>, std::uint64_t> rejected;
  for (const auto& r : store.rejections(std::nullopt, kMin, kMax)) ++rejected[{r.source, r.reason}];
  append_family(out, "imsmeter_source_rejected_frames_total", "counter",
                "Frames rejected by the validator, by source and reason");
  for (const auto& [key, n] : rejected)
    append_sample(out, "imsmeter_source_rejected_frames_total",
                  {{"source", key.first}, {"reason", key.second}}, std::to_string(n));
}

}  // namespace

std::string metrics_text(Store& store, UtcMicros now) {
  std::vector<MeterSample> meters;
  for (const auto& m : store.meters()) {
    MeterSample s{{{"meter_id", std::to_string(m.id)}, {"label", m.label}, {"tenant", m.tenant}},
                  m,
                  store.last_reading(m.id, kMax)};
    meters.push_back(std::move(s));
  }
  std::string out;
  append_meters(out, meters, now);
  append_sources(out, store);
  return out;
}

}  // namespace imsm::collector::http
