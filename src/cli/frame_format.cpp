#include "cli/frame_format.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

#include "common/hex.h"
#include "common/text.h"

namespace imsm::cli {

void append_frame_json(std::string& out, const protocol::LocatedFrame& f) {
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
  if (!f.time) {
    lit("}\n");
    out.append(buf, p);
    return;
  }
  out.append(buf, p);
  out.append(",\"time_s\":");
  append_seconds_us(out, f.time->count());
  out.append(",\"burst\":\"");
  out.append(protocol::to_string(f.burst));
  out.append("\"}\n");
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
    append_seconds_us(t, f.time->count());
    out.append(fmt::format("  {:>14}  {}", t, protocol::to_string(f.burst)));
  }
  out.push_back('\n');
}

}  // namespace imsm::cli
