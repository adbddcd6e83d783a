#include "cli/frame_format.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

#include "common/hex.h"
#include "common/text.h"

namespace imsm::cli {

void append_frame_json(std::string& out, const protocol::LocatedFrame& f, std::string_view at) {
  // Built in a stack buffer and appended once: this line is the hot path of `decode`.
  char buf[256];
  char* p = buf;
  auto lit = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  auto num = [&p](auto v) { p = std::to_chars(p, p + 24, v).ptr; };
  lit("{\"offset\":");
  num(f.offset);
  lit(",\"meter_id\":");
  num(f.frame.meter_id.value);
  lit(",\"peak_demand_counts\":");
  num(f.frame.peak_demand.value);
  lit(",\"peak_demand_kw\":");
  const std::uint32_t centi = f.frame.peak_demand.centi_kw();
  num(centi / 100);
  *p++ = '.';
  *p++ = static_cast<char>('0' + (centi / 10) % 10);
  *p++ = static_cast<char>('0' + centi % 10);
  lit(",\"demand_resets\":");
  num(f.frame.demand_resets.value);
  lit(",\"total_kwh\":");
  num(f.frame.total_kwh.value);
  lit(",\"raw\":\"");
  static constexpr auto kHexPairs = [] {
    std::array<char, 512> t{};
    constexpr char kDigits[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
      t[static_cast<std::size_t>(2 * i)] = kDigits[i >> 4];
      t[static_cast<std::size_t>(2 * i + 1)] = kDigits[i & 0x0F];
    }
    return t;
  }();
  for (const std::uint8_t byte : protocol::encode(f.frame)) {
    std::memcpy(p, &kHexPairs[2u * byte], 2);
    p += 2;
  }
  *p++ = '"';
  if (!f.time && at.empty()) {
    lit("}\n");
    out.append(buf, p);
    return;
  }
  out.append(buf, p);
  if (f.time) {
    out.append(",\"time_s\":");
    append_seconds_us(out, f.time->count());
    out.append(",\"burst\":\"");
    out.append(protocol::to_string(f.burst));
    out.append("\"");
  }
  if (!at.empty()) {
    out.append(",\"at\":\"");
    out.append(at);
    out.append("\"");
  }
  out.append("}\n");
}

namespace {

std::string raw_hex(const protocol::LocatedFrame& f) {
  std::string raw;
  const auto bytes = protocol::encode(f.frame);
  append_hex(raw, bytes.data(), bytes.size());
  return raw;
}

std::string time_text(const protocol::LocatedFrame& f) {
  std::string t;
  if (f.time) append_seconds_us(t, f.time->count());
  return t;
}

// The widths of the table's columns; raw is 12 bytes as 24 hex digits.
constexpr const char* kRowFormat = "{:>10}  {:>8}  {:>10}  {:>6}  {:>10}  {:<24}";

}  // namespace

void append_table_header(std::string& out, bool timed, bool wall_clock) {
  out.append(fmt::format(fmt::runtime(kRowFormat), "offset", "meter_id", "peak_kw", "resets",
                         "total_kwh", "raw"));
  if (timed) out.append(fmt::format("  {:>14}  {:<6}", "time_s", "burst"));
  if (wall_clock) out.append("  at");
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out.push_back('\n');
}

void append_table_row(std::string& out, const protocol::LocatedFrame& f, bool timed,
                      std::string_view at) {
  std::string kw;
  append_kw(kw, f.frame.peak_demand);
  out.append(fmt::format(fmt::runtime(kRowFormat), f.offset, f.frame.meter_id.value, kw,
                         f.frame.demand_resets.value, f.frame.total_kwh.value, raw_hex(f)));
  if (timed) out.append(fmt::format("  {:>14}  {:<6}", time_text(f), protocol::to_string(f.burst)));
  if (!at.empty()) out.append("  ").append(at);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out.push_back('\n');
}

void append_csv_header(std::string& out, bool timed, bool wall_clock) {
  out.append("offset,meter_id,peak_demand_counts,peak_demand_kw,demand_resets,total_kwh,raw");
  if (timed) out.append(",time_s,burst");
  if (wall_clock) out.append(",at");
  out.push_back('\n');
}

void append_csv_row(std::string& out, const protocol::LocatedFrame& f, bool timed,
                    std::string_view at) {
  std::string kw;
  append_kw(kw, f.frame.peak_demand);
  out.append(fmt::format("{},{},{},{},{},{},{}", f.offset, f.frame.meter_id.value,
                         f.frame.peak_demand.value, kw, f.frame.demand_resets.value,
                         f.frame.total_kwh.value, raw_hex(f)));
  if (timed) out.append(fmt::format(",{},{}", time_text(f), protocol::to_string(f.burst)));
  if (!at.empty()) out.append(",").append(at);
  out.push_back('\n');
}

}  // namespace imsm::cli
