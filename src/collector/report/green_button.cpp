#include "collector/report/green_button.h"

#include <fmt/format.h>

namespace imsm::collector {

namespace {

std::int64_t unix_s(UtcMicros t) {
  return t / kMicrosPerSecond;
}

// ESPI codes (REQ.21 enumerations): kind 0 = electricity; accumulationBehaviour 4 = delta
// data; commodity 1 = electricity secondary metered; flowDirection 1 = forward (delivered);
// uom 72 = Wh; quality 10 = questionable.
void meter_entries(const std::vector<IntervalRow>& rows, std::size_t lo, std::size_t hi,
                   IntervalStep step, std::string& out) {
  const auto id = rows[lo].meter_id;
  out += fmt::format(
      "  <entry>\n    <id>urn:imsmeter:meter:{0}:usagepoint</id>\n"
      "    <title>Meter {0}</title>\n"
      "    <link rel=\"self\" href=\"/espi/1_1/resource/UsagePoint/{0}\"/>\n"
      "    <link rel=\"related\" href=\"/espi/1_1/resource/UsagePoint/{0}/MeterReading\"/>\n"
      "    <content><espi:UsagePoint><espi:ServiceCategory><espi:kind>0</espi:kind>"
      "</espi:ServiceCategory></espi:UsagePoint></content>\n  </entry>\n",
      id);
  out += fmt::format(
      "  <entry>\n    <id>urn:imsmeter:meter:{0}:readingtype</id>\n"
      "    <link rel=\"self\" href=\"/espi/1_1/resource/ReadingType/{0}\"/>\n"
      "    <content><espi:ReadingType><espi:accumulationBehaviour>4</espi:accumulationBehaviour>"
      "<espi:commodity>1</espi:commodity><espi:flowDirection>1</espi:flowDirection>"
      "<espi:intervalLength>{1}</espi:intervalLength><espi:powerOfTenMultiplier>0"
      "</espi:powerOfTenMultiplier><espi:uom>72</espi:uom></espi:ReadingType></content>\n"
      "  </entry>\n",
      id,
      nominal_seconds(step) > 0 ? nominal_seconds(step)
                                : unix_s(rows[lo].end) - unix_s(rows[lo].start));
  out += fmt::format(
      "  <entry>\n    <id>urn:imsmeter:meter:{0}:intervalblock</id>\n"
      "    <link rel=\"self\" href=\"/espi/1_1/resource/UsagePoint/{0}/MeterReading/1/"
      "IntervalBlock/1\"/>\n"
      "    <content><espi:IntervalBlock>\n      <espi:interval><espi:duration>{1}"
      "</espi:duration><espi:start>{2}</espi:start></espi:interval>\n",
      id, unix_s(rows[hi].end) - unix_s(rows[lo].start), unix_s(rows[lo].start));
  for (std::size_t i = lo; i <= hi; ++i) {
    const auto& r = rows[i];
    if (!r.wh) continue;
    out += fmt::format(
        "      <espi:IntervalReading>{}<espi:timePeriod><espi:duration>{}</espi:duration>"
        "<espi:start>{}</espi:start></espi:timePeriod><espi:value>{}</espi:value>"
        "</espi:IntervalReading>\n",
        r.complete ? ""
                   : "<espi:ReadingQuality><espi:quality>10</espi:quality></espi:ReadingQuality>",
        unix_s(r.end) - unix_s(r.start), unix_s(r.start), *r.wh);
  }
  out += "    </espi:IntervalBlock></content>\n  </entry>\n";
}

}  // namespace

void write_green_button(const std::vector<IntervalRow>& rows, const TimeZone& tz, IntervalStep step,
                        std::string& out) {
  out +=
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:espi=\"http://naesb.org/espi\">\n"
      "  <id>urn:imsmeter:intervals</id>\n  <title>imsmeter interval data</title>\n";
  out += fmt::format("  <!-- time zone {} -->\n", tz.name());
  for (std::size_t lo = 0; lo < rows.size();) {
    std::size_t hi = lo;
    while (hi + 1 < rows.size() && rows[hi + 1].meter_id == rows[lo].meter_id) ++hi;
    meter_entries(rows, lo, hi, step, out);
    lo = hi + 1;
  }
  out += "</feed>\n";
}

}  // namespace imsm::collector
