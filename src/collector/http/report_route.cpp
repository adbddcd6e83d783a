#include "collector/http/report_route.h"

#include "collector/report/bill_format.h"
#include "collector/report/bill_source.h"
#include "collector/report/tz.h"

namespace imsm::collector::http {

namespace {

std::string param(const Params& q, const char* name) {
  const auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

TimeZone zone(const Params& q, const CollectorConfig& config) {
  const auto given = param(q, "tz");
  const auto name = given.empty() ? config.billing.time_zone : given;
  if (name.empty()) return TimeZone{};
  std::string error;
  auto z = TimeZone::load(name, error);
  if (!z) throw ApiError(400, "tz", "tz: " + error);
  return *z;
}

UtcMicros local_time(const TimeZone& tz, const Params& q, const char* name) {
  const auto text = param(q, name);
  const auto t = text.empty() ? std::nullopt : parse_time_in(tz, text);
  if (!t) throw ApiError(400, name, std::string(name) + " '" + text + "': expected ISO 8601");
  return *t;
}

}  // namespace

Body report_body(Store& store, const CollectorConfig& config, const Params& q) {
  for (const auto& [k, v] : q)
    if (k != "from" && k != "to" && k != "tz" && k != "tenant" && k != "format" &&
        k != "energy_only")
      throw ApiError(400, k, "unknown parameter '" + k + "'");
  const auto format = param(q, "format").empty() ? std::string("json") : param(q, "format");
  if (format != "json" && format != "csv")
    throw ApiError(400, "format", "format must be json or csv, not '" + format + "'");
  const auto energy_only = param(q, "energy_only");
  if (!energy_only.empty() && energy_only != "true" && energy_only != "false")
    throw ApiError(400, "energy_only", "energy_only must be true or false");
  const TimeZone tz = zone(q, config);
  BillRequest r;
  r.from = local_time(tz, q, "from");
  r.to = local_time(tz, q, "to");
  if (r.to <= r.from) throw ApiError(400, "to", "to must be after from");
  r.tz = &tz;
  r.energy_only = energy_only == "true";
  if (!r.energy_only && config.tariffs.empty())
    throw ApiError(400, "energy_only",
                   "the server's configuration has no [[tariff]] (serve --config): ask for "
                   "energy_only=true");
  if (const auto t = param(q, "tenant"); !t.empty()) {
    r.tenant = resolve_tenant(tenant_names(billed_meters(store, config)), t);
    if (!r.tenant) throw ApiError(400, "tenant", "no such tenant '" + t + "'");
  }
  Body b;
  if (format == "csv") b.content_type = "text/csv";
  write_bill(make_bill(store, config, r), tz, format, b.text);
  return b;
}

}  // namespace imsm::collector::http
