#include "collector/sinks/outbox_json.h"

#include <nlohmann/json.hpp>
#include <variant>

#include "common/hex.h"

namespace imsm::collector {

namespace {

using nlohmann::ordered_json;

std::string hex(const protocol::RawFrame& raw) {
  std::string s;
  append_hex(s, raw.data(), raw.size());
  return s;
}

// `decided`: a reading in the store (with its epoch and unwrapped total), not only what its
// frame's bytes say.
void put_reading(ordered_json& j, const StoredReading& s, bool decided) {
  const Reading& r = s.r;
  j["frame_id"] = r.frame_id;
  j["meter_id"] = r.meter_id;
  j["received_at"] = format_utc(r.received_at);
  j["received_at_us"] = r.received_at;
  if (decided) {
    j["epoch"] = r.epoch;
    j["total_kwh"] = r.total_kwh;
  }
  j["kwh24"] = r.kwh24;
  j["peak_demand_counts"] = r.peak_demand_counts;
  j["peak_demand_w"] = static_cast<std::int64_t>(r.peak_demand_counts) * 20;
  j["demand_resets"] = r.demand_resets;
  j["source"] = s.source;
  j["raw"] = hex(s.raw);
}

void put_event(ordered_json& j, const StoredEvent& s) {
  j["id"] = s.id;
  j["at"] = format_utc(s.e.at);
  j["at_us"] = s.e.at;
  j["kind"] = to_string(s.e.kind);
  j["meter_id"] = s.e.meter_id ? ordered_json(*s.e.meter_id) : ordered_json(nullptr);
  j["source"] = s.source.empty() ? ordered_json(nullptr) : ordered_json(s.source);
  ordered_json d = ordered_json::object();
  for (const auto& [k, v] : s.e.detail.fields())
    std::visit([&d, &k = k](const auto& x) { d[k] = x; }, v);
  j["detail"] = std::move(d);
  j["retracted"] = s.retracted;
}

void put_rejection(ordered_json& j, const StoredRejection& r) {
  j["frame_id"] = r.frame_id;
  j["meter_id"] = r.meter_id;
  j["received_at"] = format_utc(r.received_at);
  j["received_at_us"] = r.received_at;
  j["reason"] = r.reason;
  j["detail"] = r.detail;
  j["source"] = r.source;
  j["raw"] = hex(r.raw);
}

}  // namespace

std::string outbox_json(const OutboxItem& item) {
  ordered_json j;
  j["seq"] = item.seq;
  j["type"] = to_string(item.kind);
  if (item.reading)
    put_reading(j, *item.reading, !item.withdrawn && item.kind != OutboxKind::Provisional);
  if (item.withdrawn && item.kind == OutboxKind::Reading) j["withdrawn_since"] = true;
  if (item.decides_provisional)
    j[item.kind == OutboxKind::Reading ? "confirms_provisional" : "withdraws_provisional"] = true;
  if (item.event) put_event(j, *item.event);
  if (item.rejection) put_rejection(j, *item.rejection);
  // Strings from the wire, files and the OS are escaped; invalid UTF-8 is replaced, never
  // an exception in a sink.
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace imsm::collector
