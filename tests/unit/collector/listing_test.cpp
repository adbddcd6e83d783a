// The jsonl and csv rows of `imsmeter readings` (listing.h): written piece by piece, with the
// day's date and the source's escaped text reused from the row before; checked against
// hand-written rows and, for the time, against format_utc (an independent snprintf).
#include "collector/report/listing.h"

#include <gtest/gtest.h>

#include <string>

#include "collector/time_util.h"

namespace imsm::collector {
namespace {

// 2026-11-01T00:00:00Z: 20,758 days after 1970-01-01 (56 years with 14 leap days: 56 x 365 +
// 14 = 20,454 days to 2026-01-01, plus the 304 days of January to October 2026) x 86,400 s.
constexpr UtcMicros kNov1 = 1'793'491'200'000'000;

StoredReading row(UtcMicros at, const std::string& source) {
  StoredReading s;
  s.r.meter_id = 65535;
  s.r.received_at = at;
  s.r.total_kwh = 99'999'999'999;
  s.r.kwh24 = 16'777'215;
  s.r.epoch = 4'294'967'295u;
  s.r.peak_demand_counts = 65535;  // x 20 W = 1,310,700 W: "1310.70" kW
  s.r.demand_resets = 255;
  s.source = source;
  s.raw = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x0D};
  return s;
}

TEST(Listing, JsonlRowsAcrossMidnightAndSources) {
  // The last microsecond of Nov 1, then the first of Nov 2 (the date must change), from two
  // sources, the first needing JSON escapes, then the first again.
  const UtcMicros last = kNov1 + 86'400'000'000 - 1;
  std::string out;
  append_reading(out, ListFormat::Jsonl, row(last, "tcp:a,\"b\""));
  append_reading(out, ListFormat::Jsonl, row(last + 1, "file:x.bin"));
  append_reading(out, ListFormat::Jsonl, row(last + 2, "tcp:a,\"b\""));
  const std::string tail =
      ",\"total_kwh\":99999999999,\"kwh24\":16777215,\"epoch\":4294967295,"
      "\"peak_demand_counts\":65535,\"peak_demand_kw\":1310.70,\"demand_resets\":255,";
  const std::string raw = "\"raw\":\"00ffffffffff0000ffffff0d\"}\n";
  EXPECT_EQ(out, "{\"meter_id\":65535,\"received_at\":\"2026-11-01T23:59:59.999999Z\"" + tail +
                     "\"source\":\"tcp:a,\\\"b\\\"\"," + raw +
                     "{\"meter_id\":65535,\"received_at\":\"2026-11-02T00:00:00.000000Z\"" + tail +
                     "\"source\":\"file:x.bin\"," + raw +
                     "{\"meter_id\":65535,\"received_at\":\"2026-11-02T00:00:00.000001Z\"" + tail +
                     "\"source\":\"tcp:a,\\\"b\\\"\"," + raw);
}

TEST(Listing, CsvRowsQuoteTheSourceWhenNeeded) {
  std::string out;
  append_reading_header(out, ListFormat::Csv);
  StoredReading small = row(kNov1 + 7'000'042, "tcp:a,\"b\"");  // 00:00:07.000042
  small.r.meter_id = 7;
  small.r.total_kwh = 0;
  small.r.kwh24 = 0;
  small.r.epoch = 0;
  small.r.peak_demand_counts = 1;  // 20 W: "0.02" kW
  small.r.demand_resets = 0;
  append_reading(out, ListFormat::Csv, small);
  append_reading(out, ListFormat::Csv, row(kNov1 + 3'600'000'000, "serial:/dev/ttyUSB0"));
  EXPECT_EQ(out,
            "meter_id,received_at,total_kwh,kwh24,epoch,peak_demand_counts,peak_demand_kw,"
            "demand_resets,source,raw\n"
            "7,2026-11-01T00:00:07.000042Z,0,0,0,1,0.02,0,\"tcp:a,\"\"b\"\"\","
            "00ffffffffff0000ffffff0d\n"
            "65535,2026-11-01T01:00:00.000000Z,99999999999,16777215,4294967295,65535,1310.70,255,"
            "serial:/dev/ttyUSB0,00ffffffffff0000ffffff0d\n");
}

// The time field equals format_utc's text for times before 1970 and across days, months and
// years, in an order that goes back and forth between days.
TEST(Listing, TimeFieldIsFormatUtcText) {
  const UtcMicros times[] = {-1,
                             0,
                             -86'400'000'000,
                             kNov1 - 1,
                             kNov1,
                             kNov1 + 59 * 86'400'000'000 + 12'345'678'901,  // 2026-12-30
                             kNov1 + 61 * 86'400'000'000,                   // 2027-01-01
                             kNov1,
                             253'402'300'799'999'999};  // 9999-12-31T23:59:59.999999Z
  for (const UtcMicros t : times) {
    std::string out;
    append_reading(out, ListFormat::Csv, row(t, "s"));
    EXPECT_EQ(out.substr(6, out.find(',', 6) - 6), format_utc(t)) << t;
  }
  std::string out;
  append_reading(out, ListFormat::Csv, row(-1, "s"));
  EXPECT_EQ(out.substr(6, 27), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace imsm::collector
