"""imsmeter report: the bill per meter and per tenant (docs/collector.md "Billing").

Expected values are recomputed here independently with exact fractions: interpolated boundary
energy in Wh rounded half up, each charge rounded once to the cent, half up."""
import json
import os
import sys
import tempfile
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import T0_ISO, T0_S, frame, iso, jsonl, run, write_capture  # noqa: E402

BINARY = None
VECTORS = json.load(open(os.environ["IMSM_VECTORS"]))
GUIDE = VECTORS["frames"][0]

CONFIG = """
[[tariff]]
name = "standard"
energy_per_kwh = "0.1432"
demand_per_kw = "12.50"
fixed_per_meter = "4.00"
[[tariff]]
name = "cheap"
energy_per_kwh = "0.0999"
demand_per_kw = 0
[[meter]]
id = 11
model = "S2-480-N-01-01-041-01"
label = "Unit 1"
tenant = "Acme"
tariff = "standard"
[[meter]]
id = 12
model = "S2-480-N-01-01-041-01"
label = "Unit 2"
tenant = "Acme"
tariff = "standard"
[[meter]]
id = %d
model = "S2-480-N-01-01-041-01"
label = "Guide"
tenant = "Bolt"
tariff = "cheap"
""" % GUIDE["meter_id"]

PRICES = {"standard": (Fraction(1432, 10000), Fraction(25, 2), Fraction(4)),
          "cheap": (Fraction(999, 10000), Fraction(0), Fraction(0))}


def half_up(x):
    return int((x * 2 + 1) // 2)


def series(meter):
    """(t_s, kwh, peak_counts, resets) every 300 s for 2 h; meter-specific slopes."""
    out = []
    kwh = {11: 500, 12: 90_000, GUIDE["meter_id"]: GUIDE["total_kwh"]}[meter]
    # Peaks stay physically possible: a new peak needs its energy over 15 minutes (guide 3.7);
    # the guide meter's peak never changes.
    peak = {11: 100, 12: 200, GUIDE["meter_id"]: GUIDE["peak_demand_counts"]}[meter]
    resets = {11: 0, 12: 7, GUIDE["meter_id"]: GUIDE["demand_resets"]}[meter]
    for i in range(25):
        t = 60.0 + i * 300 + (meter % 5)
        out.append((t, kwh, peak, resets))
        kwh += (i % 3) + (meter % 4)
        peak += 5 if i < 10 and meter != GUIDE["meter_id"] else 0
        if i == 12 and meter == 12:
            resets += 1
            peak = 10
    return out


def energy_at(pts, t):
    for (t0, e0, _, _), (t1, e1, _, _) in zip(pts, pts[1:]):
        if t0 <= t <= t1:
            return e0 * 1000 + half_up(Fraction(e1 - e0) * 1000 * Fraction(t - t0) / Fraction(t1 - t0))
    raise AssertionError("outside")


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.cfg = os.path.join(d, "imsmeter.toml")
        with open(cls.cfg, "w") as f:
            f.write(CONFIG)
        bursts = []
        for m in (11, 12, GUIDE["meter_id"]):
            for t, kwh, peak, resets in series(m):
                bursts.append((t, frame(m, kwh, peak, resets)))
        cap = os.path.join(d, "cap.bin")
        write_capture(cap, bursts)
        cls.db = os.path.join(d, "r.db")
        p = run(BINARY, "collect", "--source", "file:" + cap, "--db", cls.db, "--config", cls.cfg,
                "--replay-start", T0_ISO, "--no-fsync")
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def bill(self, *extra, fmt="json"):
        p = run(BINARY, "report", "--db", self.db, "--config", self.cfg, "--from",
                "2026-11-01T00:07:30Z", "--to", "2026-10-31T21:32:30-04:00", "--format", fmt,
                *extra)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout

    def test_bill_per_meter_is_exact(self):
        bill = json.loads(self.bill())
        a, b = T0_S + 450, T0_S + 5550
        tariffs = {11: "standard", 12: "standard", GUIDE["meter_id"]: "cheap"}
        self.assertEqual([m["meter_id"] for m in bill["meters"]], [11, 12, GUIDE["meter_id"]])
        for m in bill["meters"]:
            pts = [(T0_S + t, e, p, r) for t, e, p, r in series(m["meter_id"])]
            wh = energy_at(pts, b) - energy_at(pts, a)
            self.assertEqual(m["wh"], wh)
            self.assertEqual(m["kwh"], float(Fraction(wh, 1000)))
            inside = [x for x in pts if a <= x[0] < b]
            peak = max(x[2] for x in inside)
            self.assertEqual(m["peak_demand_counts"], peak)
            self.assertEqual(m["peak_kw"], float(Fraction(peak * 2, 100)))
            before = [x for x in pts if x[0] <= a][-1]
            self.assertEqual(m["start"]["received_at"], iso(before[0]))
            self.assertEqual(m["start"]["total_kwh"], before[1])
            after = [x for x in pts if x[0] >= b][0]
            self.assertEqual(m["end"]["total_kwh"], after[1])
            e_price, d_price, fixed = PRICES[tariffs[m["meter_id"]]]
            energy = half_up(Fraction(wh, 1000) * e_price * 100)
            demand = half_up(Fraction(peak, 50) * d_price * 100)
            self.assertEqual(round(m["energy_charge"] * 100), energy)
            self.assertEqual(round(m["demand_charge"] * 100), demand)
            self.assertEqual(round(m["fixed_charge"] * 100), round(fixed * 100))
            self.assertEqual(round(m["total"] * 100), energy + demand + round(fixed * 100))
            self.assertEqual(m["demand_resets"], 1 if m["meter_id"] == 12 else 0)
            self.assertEqual(m["receive_ratio"], 1.0)
        # Tenant and grand totals are sums of the meter totals.
        acme = [t for t in bill["tenants"] if t["tenant"] == "Acme"][0]
        self.assertEqual(round(acme["total"] * 100),
                         sum(round(m["total"] * 100) for m in bill["meters"] if m["tenant"] == "Acme"))
        self.assertEqual(round(bill["total"]["total"] * 100),
                         sum(round(m["total"] * 100) for m in bill["meters"]))

    def test_guide_2_5_2_demand_charge_of_66_26_kw(self):
        p = run(BINARY, "report", "--db", self.db, "--config", self.cfg, "--from", T0_ISO,
                "--to", "2026-11-01T00:02:00Z", "--format", "json", "--tenant", "Bolt")
        bill = json.loads(p.stdout)
        self.assertEqual(len(bill["meters"]), 1)
        m = bill["meters"][0]
        self.assertEqual(m["peak_demand_counts"], GUIDE["peak_demand_counts"])
        self.assertIn('"peak_kw":%s,' % GUIDE["peak_demand_kw"], p.stdout.decode())

    def test_tenant_filter_and_formats(self):
        bill = json.loads(self.bill("--tenant", "Acme"))
        self.assertEqual(sorted(m["meter_id"] for m in bill["meters"]), [11, 12])
        csv = self.bill(fmt="csv").decode().splitlines()
        self.assertTrue(csv[0].startswith("kind,meter_id,label,tenant"))
        self.assertEqual([l.split(",")[0] for l in csv[1:]],
                         ["meter"] * 3 + ["tenant"] * 2 + ["total"])
        table = self.bill(fmt="table").decode()
        self.assertIn("TOTAL", table)
        self.assertIn("Acme", table)

    def test_hourly_and_daily_rollups_add_up_to_the_bill(self):
        args = ["--db", self.db, "--config", self.cfg, "--from", T0_ISO, "--to",
                "2026-11-01T02:00:00Z"]
        hours = jsonl(run(BINARY, "report", *args, "--rollup", "hour", "--format", "json").stdout)
        days = jsonl(run(BINARY, "report", *args, "--rollup", "day", "--format", "json").stdout)
        bill = json.loads(run(BINARY, "report", *args, "--format", "json").stdout)
        for m in bill["meters"]:
            mine = [h for h in hours if h["meter_id"] == m["meter_id"]]
            self.assertEqual(len(mine), 2)
            self.assertEqual([h["start"] for h in mine], ["2026-11-01T00:00:00Z",
                                                          "2026-11-01T01:00:00Z"])
            self.assertEqual(sum(h["wh"] for h in mine), m["wh"])
            self.assertEqual([d["wh"] for d in days if d["meter_id"] == m["meter_id"]], [m["wh"]])
        p = run(BINARY, "report", *args, "--rollup", "week")
        self.assertEqual(p.returncode, 2)

    def test_bad_arguments(self):
        for args in (["--from", "soon", "--to", T0_ISO], ["--from", T0_ISO, "--to", T0_ISO],
                     ["--from", T0_ISO, "--to", "2026-11-02", "--format", "pdf"]):
            p = run(BINARY, "report", "--db", self.db, *args)
            self.assertEqual(p.returncode, 2, args)
        p = run(BINARY, "report", "--db", self.db, "--from", T0_ISO)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
