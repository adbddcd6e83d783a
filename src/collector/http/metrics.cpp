#include "collector/http/metrics.h"

#include <fmt/format.h>

#include <algorithm>

#include "collector/http/prometheus_text.h"
#include "collector/report/listing.h"
#include "common/text.h"

namespace imsm::collector::http {

namespace {

struct MeterSample {
  Labels labels;
  MeterInfo info;
  std::optional<Reading> last;
  std::int64_t readings = 0;
  std::string receive_ratio;  // empty: none (no reading yet, or none expected)
  const char* status = "waiting";
};

// The receive ratio over [now - 1 h, now]: readings received in it over the frames the cadence
// promised from the window's start, or the meter's first reading when that is later
// (docs/collector.md "Receive ratio", the bill's rule with the last hour as the period). `w`:
// the meter's readings in [now - 1 h, now + 1 us) and its first reading.
std::string receive_ratio(const ReadingWindow& w, UtcMicros now, std::int64_t cadence_us) {
  if (!w.first_at || cadence_us <= 0) return {};
  const UtcMicros span_from = std::max(now - kReceiveWindowUs, *w.first_at);
  if (span_from > now) return {};
  const std::int64_t expected = (now + 1 - span_from + cadence_us - 1) / cadence_us;
  return ratio_text(w.count, expected);
}

// Family f's value for one meter (the order of append_meters' families); none without a reading.
std::optional<std::string> meter_value(std::size_t f, const MeterSample& m, UtcMicros now) {
  switch (f) {
    case 4:
      return std::to_string(m.readings);
    case 5:
      if (m.receive_ratio.empty()) return std::nullopt;
      return m.receive_ratio;
    case 6:
      return std::to_string(m.info.silent ? 1 : 0);
    case 7:
      return std::to_string(m.info.registered ? 1 : 0);
    default:
      break;
  }
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
      {"imsmeter_meter_readings_total", "counter", "Readings stored for the meter"},
      {"imsmeter_meter_receive_ratio", "gauge",
       "Readings received in the last hour over the frames the cadence promised"},
      {"imsmeter_meter_silent", "gauge", "1 while the meter is silent (no recent reading)"},
      {"imsmeter_meter_registered", "gauge", "1 when the meter is in the configuration"},
  };
  for (std::size_t f = 0; f < std::size(fams); ++f) {
    append_family(out, fams[f].name, fams[f].type, fams[f].help);
    for (const auto& m : meters)
      if (auto v = meter_value(f, m, now)) append_sample(out, fams[f].name, m.labels, *v);
  }
  // A state set: one sample per status, 1 for the meter's own.
  append_family(out, "imsmeter_meter_status", "gauge",
                "1 for the meter's status at the server's clock (waiting, online, silent)");
  for (const auto& m : meters)
    for (const char* s : {"waiting", "online", "silent"}) {
      Labels l = m.labels;
      l.emplace_back("status", s);
      append_sample(out, "imsmeter_meter_status", l, std::string(s) == m.status ? "1" : "0");
    }
}

void append_sources(std::string& out, Store& store, const MetricsContext& ctx) {
  const auto sources = store.sources();
  auto per_source = [&](const char* name, const char* help, auto value) {
    append_family(out, name, "counter", help);
    for (const auto& [src, c] : sources)
      append_sample(out, name, {{"source", src}}, std::to_string(value(c)));
  };
  per_source("imsmeter_source_bytes_total", "Bytes read from the source",
             [](const SourceCounters& c) { return c.bytes_in; });
  per_source("imsmeter_source_frames_total", "Frames framed from the source",
             [](const SourceCounters& c) { return c.frames; });
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
  // The store's per-source, per-reason counts (one lookup each), not a walk of every
  // rejection: 2.1 M of them on 10,000 meters x 30 days.
  append_family(out, "imsmeter_source_rejected_frames_total", "counter",
                "Frames rejected by the validator, by source and reason");
  for (const auto& [name, c] : sources)
    for (std::size_t k = 0; k < c.rejected.size(); ++k)
      if (c.rejected[k] > 0)
        append_sample(out, "imsmeter_source_rejected_frames_total",
                      {{"source", name}, {"reason", to_string(static_cast<RejectReason>(k))}},
                      std::to_string(c.rejected[k]));
  per_source("imsmeter_source_reconnects_total", "Times a live source reopened its link",
             [](const SourceCounters& c) { return c.reconnects; });
  if (ctx.health.empty()) return;  // serve: no running source to ask
  append_family(out, "imsmeter_source_up", "gauge",
                "1 while the source's component is healthy (collect --http)");
  for (const auto& [component, h] : ctx.health)
    if (component.rfind("source ", 0) == 0)
      append_sample(out, "imsmeter_source_up", {{"source", component.substr(7)}},
                    h.state == service::HealthState::Ok ? "1" : "0");
}

void append_outbox(std::string& out, Store& store) {
  const auto status = store.outbox_status();
  append_family(out, "imsmeter_outbox_head_seq", "gauge", "Newest outbox sequence number");
  append_sample(out, "imsmeter_outbox_head_seq", {}, std::to_string(status.head));
  append_family(out, "imsmeter_outbox_trimmed_unsent_total", "counter",
                "Outbox entries trimmed past the size bound before a sink read them");
  append_sample(out, "imsmeter_outbox_trimmed_unsent_total", {},
                std::to_string(status.trimmed_unsent));
  append_family(out, "imsmeter_sink_outbox_depth", "gauge",
                "Outbox entries the sink has not durably consumed (head minus its cursor)");
  for (const auto& [sink, cursor] : store.sink_cursors())
    append_sample(out, "imsmeter_sink_outbox_depth", {{"sink", sink}},
                  std::to_string(status.head > cursor ? status.head - cursor : 0));
}

void append_histogram(std::string& out, const char* name, const char* help,
                      const service::Histogram& h, std::string (*bound)(std::int64_t),
                      const std::string& sum) {
  append_family(out, name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < h.bounds().size(); ++i)
    append_sample(out, bucket, {{"le", bound(h.bounds()[i])}}, std::to_string(h.cumulative()[i]));
  append_sample(out, bucket, {{"le", "+Inf"}}, std::to_string(h.count()));
  append_sample(out, std::string(name) + "_sum", {}, sum);
  append_sample(out, std::string(name) + "_count", {}, std::to_string(h.count()));
}

std::string integer_text(std::int64_t v) {
  return std::to_string(v);
}

void append_writer(std::string& out, const service::WriterMetrics& w) {
  append_histogram(out, "imsmeter_store_commit_duration_seconds",
                   "Time to commit a batch (source counters and COMMIT with fsync)", w.commit_us,
                   &seconds_bound, seconds_text(w.commit_us.sum()));
  append_histogram(out, "imsmeter_store_commit_batch_frames", "Frames written by each commit",
                   w.batch_frames, &integer_text, std::to_string(w.batch_frames.sum()));
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"imsmeter_store_frames_total", w.stats.observations},
      {"imsmeter_store_failures_total", w.stats.store_failures},
      {"imsmeter_store_dropped_frames_total", w.stats.dropped_frames},
  };
  const char* helps[] = {"Frames journaled by the store writer in this run",
                         "Failed store attempts (first failure and retries) in this run",
                         "Frames lost in this run: the memory queue was full"};
  for (std::size_t i = 0; i < std::size(counters); ++i) {
    append_family(out, counters[i].first, "counter", helps[i]);
    append_sample(out, counters[i].first, {}, std::to_string(counters[i].second));
  }
  append_family(out, "imsmeter_store_kept_frames", "gauge",
                "Frames kept in memory, not yet committed (the open batch and the queue)");
  append_sample(out, "imsmeter_store_kept_frames", {}, std::to_string(w.kept_frames));
}

}  // namespace

std::string seconds_text(std::int64_t us) {
  const char* sign = us < 0 ? "-" : "";
  const auto a = us < 0 ? -us : us;
  return fmt::format("{}{}.{:06}", sign, a / 1000000, a % 1000000);
}

std::string seconds_bound(std::int64_t us) {
  auto s = seconds_text(us);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string ratio_text(std::int64_t got, std::int64_t expected) {
  if (expected <= 0) return {};
  const std::int64_t micro = (got * 1'000'000 + expected / 2) / expected;
  return fmt::format("{}.{:06}", micro / 1'000'000, micro % 1'000'000);
}

std::string metrics_text(Store& store, const MetricsContext& ctx) {
  const auto rule = status_rule(ctx.now, ctx.validation);
  const std::int64_t cadence_us = ctx.validation.cadence_s * kMicrosPerSecond;
  auto counts = store.reading_counts();
  auto windows = store.reading_windows(ctx.now - kReceiveWindowUs, ctx.now + 1);
  const auto last = store.last_readings();
  std::vector<MeterSample> meters;
  for (const auto& m : store.meters()) {
    MeterSample s;
    s.labels = {{"meter_id", std::to_string(m.id)}, {"label", m.label}, {"tenant", m.tenant}};
    s.info = m;
    if (const auto it = last.find(m.id); it != last.end()) s.last = it->second;
    s.readings = counts[m.id];
    if (s.last) {
      s.receive_ratio = receive_ratio(windows[m.id], ctx.now, cadence_us);
      s.status = meter_status(Point{s.last->received_at, s.last->epoch, s.last->total_kwh,
                                    s.last->peak_demand_counts, s.last->demand_resets},
                              rule);
    }
    meters.push_back(std::move(s));
  }
  std::string out;
  append_meters(out, meters, ctx.now);
  append_sources(out, store, ctx);
  append_outbox(out, store);
  if (ctx.writer) append_writer(out, *ctx.writer);
  return out;
}

}  // namespace imsm::collector::http
