#include "cli/frame_format.h"

#include <fmt/format.h>

#include <charconv>

#include "common/hex.h"

namespace imsm::cli {

namespace {

template <class T>
void append_int(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_seconds(std::string& out, protocol::Nanos t) {
  // Microsecond precision, exact decimal from integer nanoseconds.
  const std::int64_t us = (t.count() + 500) / 1000;
  append_int(out, us / 1'000'000);
  char frac[8];
  std::int64_t r = us % 1'000'000;
  for (int i = 5; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + r % 10);
    r /= 10;
  }
  out.push_back('.');
  out.append(frac, 6);
}

}  // namespace

void append_kw(std::string& out, DemandCounts counts) {
  const std::uint32_t centi = counts.centi_kw();
  append_int(out, centi / 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (centi / 10) % 10));
  out.push_back(static_cast<char>('0' + centi % 10));
}

void append_frame_json(std::string& out, const protocol::LocatedFrame& f) {
  out.append("{\"offset\":");
  append_int(out, f.offset);
  out.append(",\"meter_id\":");
  append_int(out, f.frame.meter_id.value);
  out.append(",\"peak_demand_counts\":");
  append_int(out, f.frame.peak_demand.value);
  out.append(",\"peak_demand_kw\":");
  append_kw(out, f.frame.peak_demand);
  out.append(",\"demand_resets\":");
  append_int(out, f.frame.demand_resets.value);
  out.append(",\"total_kwh\":");
  append_int(out, f.frame.total_kwh.value);
  out.append(",\"raw\":\"");
  const auto raw = protocol::encode(f.frame);
  append_hex(out, raw.data(), raw.size());
  out.push_back('"');
  if (f.time) {
    out.append(",\"time_s\":");
    append_seconds(out, *f.time);
    out.append(",\"burst\":\"");
    out.append(protocol::to_string(f.burst));
    out.push_back('"');
  }
  out.append("}\n");
}

void append_table_header(std::string& out, bool timed) {
  out.append(fmt::format("{:>10}  {:>8}  {:>10}  {:>6}  {:>10}  {}", "offset", "meter_id",
                         "peak_kw", "resets", "total_kwh", "raw"));
  if (timed) out.append(fmt::format("  {:>14}  {}", "time_s", "burst"));
  out.push_back('\n');
}

void append_table_row(std::string& out, const protocol::LocatedFrame& f, bool timed) {
  std::string kw;
  append_kw(kw, f.frame.peak_demand);
  std::string raw;
  const auto bytes = protocol::encode(f.frame);
  append_hex(raw, bytes.data(), bytes.size());
  out.append(fmt::format("{:>10}  {:>8}  {:>10}  {:>6}  {:>10}  {}", f.offset,
                         f.frame.meter_id.value, kw, f.frame.demand_resets.value,
                         f.frame.total_kwh.value, raw));
  if (timed && f.time) {
    std::string t;
    append_seconds(t, *f.time);
    out.append(fmt::format("  {:>14}  {}", t, protocol::to_string(f.burst)));
  }
  out.push_back('\n');
}

}  // namespace imsm::cli
