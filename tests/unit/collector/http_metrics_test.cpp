// /metrics (collector/http/metrics.h, docs/http.md "Metrics") on a real SQLite file built
// with known commits: every expected value below is worked out by hand from what the test
// wrote, not read back through the code under test. The store writer's histograms are filled
// by hand too (the writer's own timing is tested in service_store_writer_test).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <string>

#include "collector/http/metrics.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "helpers.h"

namespace imsm::collector::http {
namespace {

using test::kMinute;
using test::kT0;

// Meter 40's label and tenant carry a quote, a line feed and a backslash: the exposition
// must escape them (\" \n \\).
constexpr const char* kLabel = "Unit \"4B\"\nrear";
constexpr const char* kTenant = "Acme\\Co";
constexpr const char* kLabels40 =
    "meter_id=\"40\",label=\"Unit \\\"4B\\\"\\nrear\",tenant=\"Acme\\\\Co\"";
constexpr const char* kLabels41 = "meter_id=\"41\",label=\"Spare\",tenant=\"\"";

class MetricsTest : public test::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    auto w = std::make_unique<SqliteStore>(path_);
    CollectorConfig c;
    MeterEntry a;
    a.id = 40;
    a.label = kLabel;
    a.tenant = kTenant;
    MeterEntry b;
    b.id = 41;
    b.label = "Spare";
    c.meters = {a, b};
    Validator v{ValidationSettings{}};
    v.register_meter(40, std::nullopt);
    v.register_meter(41, std::nullopt);
    w->begin();
    w->save_registry(c);
    const auto src = w->source_id("tcp:h:1");
    SourceCounters sc;
    sc.bytes_in = 120;
    sc.frames = 10;
    sc.reconnects = 3;
    w->save_source_counters(src, sc);
    // Ten frames of meter 40, 5 min apart from kT0 (minutes 0, 5, ..., 45), kWh 1000..1009,
    // peak 150 counts: a registered meter's frame is a reading at once.
    Decisions d;
    for (int i = 0; i < 10; ++i) {
      auto o =
          test::obs(0, 40, static_cast<std::uint32_t>(1000 + i), 150, 2, kT0 + i * 5 * kMinute);
      o.source_id = src;
      w->journal(o);
      v.process(o, d);
      w->apply(d, v);
      d.clear();
      if (i == 3) {  // a glitch 10 s later (kWh + 500,000): held, then rejected
        auto g = test::obs(0, 40, 1000 + i + 500'000, 150, 2, o.received_at + 10'000'000);
        g.source_id = src;
        w->journal(g);
        v.process(g, d);
        w->apply(d, v);
        d.clear();
      }
    }
    w->commit();
    // The head of the outbox by plain SQL (independent of Store::outbox_status).
    SQLite::Database raw(path_, SQLite::OPEN_READONLY);
    head_ = raw.execAndGet("SELECT max(seq) FROM outbox").getInt64();
    w->save_sink_cursor("jsonl:/tmp/a", 3);
    w->save_sink_cursor("mqtt://h:1", static_cast<std::uint64_t>(head_));
    w.reset();
    store_ = open_store(path_, StoreOptions{true, false});
  }
  std::string text(UtcMicros now, std::optional<service::WriterMetrics> w = {},
                   HealthList health = {}) {
    MetricsContext ctx;
    ctx.now = now;
    ctx.writer = std::move(w);
    ctx.health = std::move(health);
    return metrics_text(*store_, ctx);
  }
  static bool has(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
  }
  std::unique_ptr<Store> store_;
  std::int64_t head_ = 0;
};

#define EXPECT_LINE(text, line) \
  EXPECT_TRUE(has(text, line)) << "missing: " << (line) << "\n" << text

TEST_F(MetricsTest, MeterFamiliesAtTheEndOfTheFirstHour) {
  // now = kT0 + 60 min: the last reading (minute 45) is 900 s old; silent after 3 cadences of
  // 300 s = 900 s, and 900 is not more than 900: online.
  const auto t = text(kT0 + 60 * kMinute);
  const std::string l40 = kLabels40;
  EXPECT_LINE(t, "imsmeter_energy_kwh_total{" + l40 + "} 1009");  // the 10th frame: 1000 + 9
  EXPECT_LINE(t, "imsmeter_peak_demand_kw{" + l40 + "} 3.00");    // 150 counts x 20 W (2.4.2)
  EXPECT_LINE(t, "imsmeter_demand_resets{" + l40 + "} 2");
  EXPECT_LINE(t, "imsmeter_last_reading_age_seconds{" + l40 + "} 900.000000");
  EXPECT_LINE(t, "imsmeter_meter_readings_total{" + l40 + "} 10");
  // Window [kT0, kT0 + 60 min], both ends included, from the first reading (kT0): frames the
  // 300 s cadence promised at minutes 0, 5, ..., 60 = 13; received 10; 10/13 = 0.7692307...
  EXPECT_LINE(t, "imsmeter_meter_receive_ratio{" + l40 + "} 0.769231");
  EXPECT_LINE(t, "imsmeter_meter_status{" + l40 + ",status=\"online\"} 1");
  EXPECT_LINE(t, "imsmeter_meter_status{" + l40 + ",status=\"silent\"} 0");
  EXPECT_LINE(t, "imsmeter_meter_status{" + l40 + ",status=\"waiting\"} 0");
  EXPECT_LINE(t, "imsmeter_meter_registered{" + l40 + "} 1");
  // Meter 41: registered, never heard: waiting, 0 readings, no value families, no ratio.
  const std::string l41 = kLabels41;
  EXPECT_LINE(t, "imsmeter_meter_status{" + l41 + ",status=\"waiting\"} 1");
  EXPECT_LINE(t, "imsmeter_meter_readings_total{" + l41 + "} 0");
  EXPECT_EQ(t.find("imsmeter_meter_receive_ratio{" + l41), std::string::npos);
  EXPECT_EQ(t.find("imsmeter_energy_kwh_total{" + l41), std::string::npos);
}

TEST_F(MetricsTest, StatusAndRatioFollowTheServersClock) {
  // 1 us later the last reading is more than 900 s old: silent.
  const std::string l40 = kLabels40;
  const auto t1 = text(kT0 + 60 * kMinute + 1);
  EXPECT_LINE(t1, "imsmeter_meter_status{" + l40 + ",status=\"silent\"} 1");
  EXPECT_LINE(t1, "imsmeter_meter_status{" + l40 + ",status=\"online\"} 0");
  // now = kT0 + 90 min: window [30 min, 90 min] holds the readings of minutes 30..45 (4);
  // promised: minutes 30, 35, ..., 90 = 13; 4/13 = 0.3076923...
  const auto t2 = text(kT0 + 90 * kMinute);
  EXPECT_LINE(t2, "imsmeter_meter_receive_ratio{" + l40 + "} 0.307692");
  EXPECT_LINE(t2, "imsmeter_last_reading_age_seconds{" + l40 + "} 2700.000000");
  // now = kT0 + 20 min: the meter was first heard at kT0, inside the window: promised
  // minutes 0..20 = 5, received 5 (0, 5, 10, 15, 20): 1.
  const auto t3 = text(kT0 + 20 * kMinute);
  EXPECT_LINE(t3, "imsmeter_meter_receive_ratio{" + l40 + "} 1.000000");
}

TEST_F(MetricsTest, SourcesAndSinks) {
  const auto t = text(kT0 + 60 * kMinute);
  EXPECT_LINE(t, "imsmeter_source_bytes_total{source=\"tcp:h:1\"} 120");
  EXPECT_LINE(t, "imsmeter_source_frames_total{source=\"tcp:h:1\"} 10");
  EXPECT_LINE(t, "imsmeter_source_reconnects_total{source=\"tcp:h:1\"} 3");
  // Depth = head - cursor: the jsonl sink read up to 3, the mqtt sink everything.
  ASSERT_GT(head_, 3);
  EXPECT_LINE(t, "imsmeter_sink_outbox_depth{sink=\"jsonl:/tmp/a\"} " + std::to_string(head_ - 3));
  EXPECT_LINE(t, "imsmeter_sink_outbox_depth{sink=\"mqtt://h:1\"} 0");
  EXPECT_LINE(t, "imsmeter_outbox_head_seq " + std::to_string(head_));
  // serve: no running writer or source to ask.
  EXPECT_EQ(t.find("imsmeter_source_up"), std::string::npos);
  EXPECT_EQ(t.find("imsmeter_store_commit"), std::string::npos);
}

// Rejections per source and reason: expected from the journal by plain SQL (every rejected
// frame of the source, counted by reason), not from the store's counters.
TEST_F(MetricsTest, RejectedFramesBySourceAndReason) {
  const auto t = text(kT0 + 60 * kMinute);
  SQLite::Database raw(path_, SQLite::OPEN_READONLY);
  SQLite::Statement q(raw,
                      "SELECT r.reason, count(*) FROM rejected r JOIN frames f ON f.id = "
                      "r.frame_id JOIN sources s ON s.id = f.source_id WHERE s.name = 'tcp:h:1' "
                      "GROUP BY r.reason");
  std::int64_t total = 0;
  while (q.executeStep()) {
    total += q.getColumn(1).getInt64();
    EXPECT_LINE(t, "imsmeter_source_rejected_frames_total{source=\"tcp:h:1\",reason=\"" +
                       q.getColumn(0).getString() + "\"} " +
                       std::to_string(q.getColumn(1).getInt64()));
  }
  EXPECT_EQ(total, 1);  // the glitch
}

TEST_F(MetricsTest, RunningCollectorsWriterAndSourceHealth) {
  service::WriterMetrics w;
  w.commit_us.observe(3'000);   // 3 ms: in le 0.005 and above
  w.commit_us.observe(40'000);  // 40 ms: in le 0.05 and above
  w.batch_frames.observe(3);    // le 4 and above
  w.batch_frames.observe(5);    // le 16 and above
  w.stats.observations = 8;
  w.stats.store_failures = 1;
  w.kept_frames = 2;
  const HealthList health{{"store", service::Health::ok()},
                          {"source tcp:h:1", service::Health::ok()},
                          {"source tcp:h:2", service::Health::degraded("reconnecting")}};
  const auto t = text(kT0 + 60 * kMinute, w, health);
  const std::string c = "imsmeter_store_commit_duration_seconds";
  EXPECT_LINE(t, "# TYPE " + c + " histogram");
  EXPECT_LINE(t, c + "_bucket{le=\"0.001\"} 0");
  EXPECT_LINE(t, c + "_bucket{le=\"0.0025\"} 0");
  EXPECT_LINE(t, c + "_bucket{le=\"0.005\"} 1");
  EXPECT_LINE(t, c + "_bucket{le=\"0.025\"} 1");
  EXPECT_LINE(t, c + "_bucket{le=\"0.05\"} 2");
  EXPECT_LINE(t, c + "_bucket{le=\"10\"} 2");
  EXPECT_LINE(t, c + "_bucket{le=\"+Inf\"} 2");
  EXPECT_LINE(t, c + "_sum 0.043000");  // 3 ms + 40 ms
  EXPECT_LINE(t, c + "_count 2");
  const std::string b = "imsmeter_store_commit_batch_frames";
  EXPECT_LINE(t, b + "_bucket{le=\"1\"} 0");
  EXPECT_LINE(t, b + "_bucket{le=\"4\"} 1");
  EXPECT_LINE(t, b + "_bucket{le=\"16\"} 2");
  EXPECT_LINE(t, b + "_sum 8");
  EXPECT_LINE(t, b + "_count 2");
  EXPECT_LINE(t, "imsmeter_store_frames_total 8");
  EXPECT_LINE(t, "imsmeter_store_failures_total 1");
  EXPECT_LINE(t, "imsmeter_store_kept_frames 2");
  EXPECT_LINE(t, "imsmeter_source_up{source=\"tcp:h:1\"} 1");
  EXPECT_LINE(t, "imsmeter_source_up{source=\"tcp:h:2\"} 0");
}

TEST(MetricsText, ExactDecimals) {
  EXPECT_EQ(seconds_text(1'500'000), "1.500000");
  EXPECT_EQ(seconds_text(-250), "-0.000250");
  EXPECT_EQ(seconds_bound(2'500), "0.0025");
  EXPECT_EQ(seconds_bound(10'000'000), "10");
  EXPECT_EQ(ratio_text(11, 12), "0.916667");  // 0.91666... rounds up
  EXPECT_EQ(ratio_text(1, 8), "0.125000");
  EXPECT_EQ(ratio_text(1, 0), "");
}

TEST(Histogram, CumulativeBucketsCountAndSum) {
  service::Histogram h{10, 100};
  for (std::int64_t v : {5, 10, 11, 1000}) h.observe(v);
  // <= 10: 5 and 10 (the bound is inclusive); <= 100: also 11; 1000 only in +Inf (count).
  EXPECT_EQ(h.cumulative(), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.sum(), 1026);
}

}  // namespace
}  // namespace imsm::collector::http
