// Bill lines and totals (report/bill.h), on plain readings: final and provisional lines,
// consecutive final bills adding up to their union, flags, minimum bill, currencies.
// Expectations derived by hand (or from the rule, by a second route) beside each.
#include <gtest/gtest.h>

#include <random>

#include "collector/report/bill.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
constexpr std::int64_t kDay = 24 * 60 * kMinute;

const TimeZone kUtc;

LineContext ctx(UtcMicros from, UtcMicros to, UtcMicros clock) {
  LineContext c;
  c.from = from;
  c.to = to;
  c.tz = &kUtc;
  c.store_clock = clock;
  return c;
}

MeterInfo meter(std::uint16_t id, const std::string& tenant) {
  MeterInfo m;
  m.id = id;
  m.tenant = tenant;
  m.registered = true;
  return m;
}

// Three days of readings every 5 minutes (+ jitter), kWh rising by 0..7 per reading.
std::vector<Point> three_days() {
  std::mt19937 rng(7);
  std::vector<Point> p;
  std::int64_t e = 40'000;
  for (int i = 0; i < 3 * 288; ++i) {
    p.push_back(Point{kT0 + i * 5 * kMinute + static_cast<std::int64_t>(rng() % 9000), 0, e, 0, 0});
    e += static_cast<std::int64_t>(rng() % 8);
  }
  return p;
}

std::vector<Point> before(const std::vector<Point>& p, UtcMicros cut) {
  std::vector<Point> out;
  for (const auto& x : p)
    if (x.at < cut) out.push_back(x);
  return out;
}

TEST(Bill, ACaptureCutAtTheBoundaryIsProvisionalThenFinalAndFinalBillsAddUp) {
  Tariff t{"flat", "USD", 143'200, 0, 0};
  const auto all = three_days();
  // Boundaries between readings (2 min 17 s past a reading slot), like Nov 1 / Nov 2 / Nov 3.
  const UtcMicros a = kT0 + 137 * kMicrosPerSecond, b = a + kDay, c = b + kDay;
  // Cut at b: no reading at or after b yet, the end value is not final.
  const auto cut = before(all, b);
  const auto early = bill_line(meter(1, "T"), true, &t, cut, ctx(a, b, cut.back().at));
  EXPECT_FALSE(early.final);
  EXPECT_EQ(early.flags, std::vector<std::string>{"provisional"});
  // Extended past b (a day more): final; and extended to the end: the same, to the Wh and
  // the cent (a final boundary value never changes).
  const auto more = before(all, b + kDay / 2);
  const auto first = bill_line(meter(1, "T"), true, &t, more, ctx(a, b, more.back().at));
  const auto first_later = bill_line(meter(1, "T"), true, &t, all, ctx(a, b, all.back().at));
  EXPECT_TRUE(first.final);
  EXPECT_TRUE(first.flags.empty());
  EXPECT_EQ(first.consumption.wh, first_later.consumption.wh);
  EXPECT_EQ(first.total_cents, first_later.total_cents);
  // The provisional value stopped at the last reading before b: it was short.
  EXPECT_LT(early.consumption.wh, first.consumption.wh);
  // Consecutive final bills add up exactly to their union.
  const auto second = bill_line(meter(1, "T"), true, &t, all, ctx(b, c, all.back().at));
  const auto both = bill_line(meter(1, "T"), true, &t, all, ctx(a, c, all.back().at));
  EXPECT_TRUE(second.final);
  EXPECT_TRUE(both.final);
  EXPECT_EQ(first.consumption.wh + second.consumption.wh, both.consumption.wh);
  // Each charge is rounded once (SPEC): the two rounded energy charges are within a cent of
  // the union's, never more.
  EXPECT_LE(std::abs(first.energy_cents + second.energy_cents - both.energy_cents), 1);
}

TEST(Bill, FlagsAClerkActsOn) {
  Tariff t{"flat", "USD", 100'000, 0, 2'500'000};
  const UtcMicros from = kT0, to = kT0 + 60 * kMinute;
  // Online (13 readings in the hour), 0 kWh: no_consumption; fixed fee still charged.
  std::vector<Point> idle;
  for (int i = 0; i <= 13; ++i) idle.push_back(Point{kT0 + i * 5 * kMinute, 0, 777, 0, 0});
  const auto l = bill_line(meter(1, "T"), true, &t, idle, ctx(from, to, to));
  EXPECT_EQ(l.flags, std::vector<std::string>{"no_consumption"});
  EXPECT_EQ(l.total_cents, 250);
  // 3 readings where the 5-minute cadence promised 12 in the hour: 250 permille < 900.
  const std::vector<Point> sparse = {{kT0, 0, 1, 0, 0},
                                     {kT0 + 25 * kMinute, 0, 2, 0, 0},
                                     {kT0 + 50 * kMinute, 0, 3, 0, 0},
                                     {kT0 + 65 * kMinute, 0, 4, 0, 0},
                                     {kT0 + 70 * kMinute, 0, 4, 0, 0}};
  const auto s = bill_line(meter(2, "T"), true, &t, sparse, ctx(from, to, to));
  EXPECT_EQ(s.readings, 3);
  EXPECT_EQ(s.expected, 12);
  EXPECT_EQ(s.flags, std::vector<std::string>{"low_receive_ratio"});
  // A replacement inside (epoch 0 then 1): replaced, and both epochs' energy counted:
  // 5000 -> 5002 (2 kWh) and 7 -> 10 (3 kWh).
  const std::vector<Point> swap = {{kT0, 0, 5000, 0, 0},
                                   {kT0 + 5 * kMinute, 0, 5002, 0, 0},
                                   {kT0 + 10 * kMinute, 1, 7, 0, 0},
                                   {kT0 + 15 * kMinute, 1, 8, 0, 0},
                                   {kT0 + 60 * kMinute, 1, 10, 0, 0}};
  const auto r = bill_line(meter(3, "T"), true, &t, swap, ctx(from, to, to));
  EXPECT_EQ(r.consumption.wh, 5000);
  EXPECT_NE(std::find(r.flags.begin(), r.flags.end(), "replaced"), r.flags.end());
  // Unassigned, no tariff given: listed with its kWh, no charge at all.
  const auto u = bill_line(meter(4, ""), false, nullptr, swap, ctx(from, to, to));
  EXPECT_EQ(u.consumption.wh, 5000);
  EXPECT_FALSE(u.charged);
  EXPECT_EQ(u.total_cents, 0);
  EXPECT_EQ(u.currency, "");
  EXPECT_NE(std::find(u.flags.begin(), u.flags.end(), "unassigned"), u.flags.end());
}

TEST(Bill, AnEndReadingThatIsStillTheNewestKeepsTheLineProvisional) {
  // One reading after `to`: the validator could still retract it (the meter's newest), so the
  // end is not final; a second reading after it settles it.
  Tariff t{"flat", "USD", 100'000, 0, 0};
  std::vector<Point> p = {{kT0, 0, 1, 0, 0}, {kT0 + 10 * kMinute, 0, 3, 0, 0}};
  const auto c = ctx(kT0, kT0 + 5 * kMinute, kT0 + 10 * kMinute);
  EXPECT_FALSE(bill_line(meter(1, "T"), true, &t, p, c).final);
  p.push_back(Point{kT0 + 15 * kMinute, 0, 4, 0, 0});
  const auto l = bill_line(meter(1, "T"), true, &t, p, c);
  EXPECT_TRUE(l.final);
  EXPECT_EQ(l.consumption.wh, 1000);  // 1 -> 3 kWh over 10 minutes: 1 kWh in the first 5
}

TEST(Bill, MinimumBillTopsUpTheTotal) {
  // 1 kWh x 0.12 = 0.12, fixed 2.50: 2.62 < 10.00, so a minimum charge of 7.38 -> 10.00.
  Tariff t{"small", "USD", 120'000, 0, 2'500'000};
  t.minimum_bill = 10'000'000;
  const std::vector<Point> p = {{kT0, 0, 10, 0, 0}, {kT0 + 60 * kMinute, 0, 11, 0, 0}};
  const auto l = bill_line(meter(1, "T"), true, &t, p, ctx(kT0, kT0 + 60 * kMinute, kT0));
  EXPECT_EQ(l.energy_cents, 12);
  EXPECT_EQ(l.minimum_cents, 738);
  EXPECT_EQ(l.total_cents, 1000);
}

TEST(Bill, DemandChargeUsesThePeriodsOwnPeak) {
  // The register rose to 250 counts inside the period (from 200 before it): 250 x 20 W =
  // 5 kW at 12.50 / kW = 62.50.
  Tariff t{"d", "USD", 0, 12'500'000, 0};
  const std::vector<Point> p = {{kT0 - kMinute, 0, 1, 200, 0},
                                {kT0 + kMinute, 0, 2, 200, 0},
                                {kT0 + 6 * kMinute, 0, 3, 250, 0},
                                {kT0 + 11 * kMinute, 0, 4, 250, 0}};
  const auto l = bill_line(meter(1, "T"), true, &t, p, ctx(kT0, kT0 + 10 * kMinute, kT0));
  EXPECT_EQ(l.demand.method, DemandMethod::Register);
  EXPECT_EQ(l.demand_cents, 6250);
}

TEST(Bill, TotalsArePerCurrencyAndNeverMixed) {
  BillLine usd, eur, none;
  usd.meter = meter(1, "Acme");
  usd.charged = true, usd.currency = "USD", usd.total_cents = 1000, usd.final = true;
  eur.meter = meter(2, "Acme");
  eur.charged = true, eur.currency = "EUR", eur.total_cents = 700, eur.final = true;
  none.meter = meter(3, "");
  none.assigned = false, none.consumption.wh = 5;
  const auto b = assemble_bill(kT0, kT0 + kDay, "UTC", false, {usd, eur, none});
  ASSERT_EQ(b.totals.size(), 3u);  // "" (no charge), EUR, USD: sorted by currency
  EXPECT_EQ(b.totals[0].currency, "");
  EXPECT_EQ(b.totals[0].wh, 5);
  EXPECT_EQ(b.totals[1].currency, "EUR");
  EXPECT_EQ(b.totals[1].total_cents, 700);
  EXPECT_EQ(b.totals[2].currency, "USD");
  EXPECT_EQ(b.totals[2].total_cents, 1000);
  EXPECT_EQ(b.tenants.size(), 3u);  // ("", ""), (Acme, EUR), (Acme, USD)
  EXPECT_EQ(b.provisional, 1);      // the line with no reading at all is not final
  EXPECT_EQ(b.unassigned, 1);
}

}  // namespace
}  // namespace imsm::collector
