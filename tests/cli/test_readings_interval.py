"""imsmeter readings --interval: energy per interval with a complete flag, JSON/CSV/Green
Button (docs/collector.md "Interval export"). Expected values recomputed here with exact
fractions: the register interpolated between readings, Wh rounded half up at each edge."""
import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import T0_ISO, T0_S, frame, run, write_capture  # noqa: E402

BINARY = None
ESPI = "{http://naesb.org/espi}"


def half_up(x):
    return int((x * 2 + 1) // 2)


# Meter 5: a reading every 300 s from 00:01:01 to 01:56:01, 1..3 kWh apart.
POINTS = []
_kwh = 200
for _i in range(24):
    POINTS.append((T0_S + 61 + _i * 300, _kwh))
    _kwh += 1 + _i % 3


def energy_at(t):
    for (t0, e0), (t1, e1) in zip(POINTS, POINTS[1:]):
        if t0 <= t <= t1:
            return e0 * 1000 + half_up(Fraction(e1 - e0) * 1000 * Fraction(t - t0, t1 - t0))
    return POINTS[0][1] * 1000 if t < POINTS[0][0] else POINTS[-1][1] * 1000


class IntervalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cap = os.path.join(cls.tmp.name, "i.bin")
        write_capture(cap, [(t - T0_S, frame(5, e)) for t, e in POINTS])
        cls.db = os.path.join(cls.tmp.name, "i.db")
        p = run(BINARY, "collect", "--source", "file:" + cap, "--db", cls.db, "--replay-start",
                T0_ISO, "--no-fsync")
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def intervals(self, *args):
        p = run(BINARY, "readings", "--db", self.db, *args)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout

    def test_quarters_have_exact_energy_and_complete_flags(self):
        doc = json.loads(self.intervals("--interval", "15m", "--from", T0_ISO, "--to",
                                        "2026-11-01T02:00:00Z", "--format", "json"))
        rows = doc["intervals"]
        self.assertEqual(doc["interval_s"], 900)
        self.assertEqual(len(rows), 8)
        for k, r in enumerate(rows):
            a, b = T0_S + 900 * k, T0_S + 900 * (k + 1)
            # Energy is clamped to the readings: nothing before 00:01:01 or after 01:56:01.
            self.assertEqual(r["wh"], energy_at(b) - energy_at(a), k)
        # 00:00-00:15 starts before the first reading, 01:45-02:00 ends after the last.
        self.assertEqual([r["complete"] for r in rows], [False] + [True] * 6 + [False])
        # Intervals sum to the energy of the span.
        self.assertEqual(sum(r["wh"] for r in rows), POINTS[-1][1] * 1000 - POINTS[0][1] * 1000)

    def test_no_data_is_null_not_zero_and_csv_has_the_flag(self):
        rows = json.loads(self.intervals("--interval", "1h", "--from", T0_ISO, "--to",
                                         "2026-11-01T04:00:00Z", "--format",
                                         "json"))["intervals"]
        self.assertEqual([r["wh"] is None for r in rows], [False, False, True, True])
        csv = self.intervals("--interval", "15m", "--from", T0_ISO, "--to",
                             "2026-11-01T02:00:00Z", "--format", "csv").decode().splitlines()
        self.assertEqual(csv[0], "meter_id,start,end,kwh,wh,complete")
        self.assertEqual(csv[2].split(",")[:3],
                         ["5", "2026-11-01T00:15:00Z", "2026-11-01T00:30:00Z"])
        self.assertEqual([l.split(",")[-1] for l in csv[1:]], ["false"] + ["true"] * 6 + ["false"])

    def test_green_button_interval_block(self):
        xml = self.intervals("--interval", "15m", "--from", T0_ISO, "--to",
                             "2026-11-01T02:00:00Z", "--format", "espi")
        root = ET.fromstring(xml)
        self.assertEqual(root.tag, "{http://www.w3.org/2005/Atom}feed")
        rt = root.find(".//%sReadingType" % ESPI)
        self.assertEqual(rt.find(ESPI + "uom").text, "72")  # Wh
        self.assertEqual(rt.find(ESPI + "intervalLength").text, "900")
        readings = root.findall(".//%sIntervalReading" % ESPI)
        self.assertEqual(len(readings), 8)
        for k, r in enumerate(readings):
            self.assertEqual(int(r.find("%stimePeriod/%sstart" % (ESPI, ESPI)).text),
                             T0_S + 900 * k)
            self.assertEqual(int(r.find(ESPI + "value").text),
                             energy_at(T0_S + 900 * (k + 1)) - energy_at(T0_S + 900 * k))
        quality = [r.find("%sReadingQuality/%squality" % (ESPI, ESPI)) is not None
                   for r in readings]
        self.assertEqual(quality, [True] + [False] * 6 + [True])

    def test_local_days_and_bad_arguments(self):
        # New York's 2026-11-01 has 25 hours: 04:00Z to 05:00Z the next day (90000 s); the
        # data (00:01Z-01:56Z) lie in October 31 local, 20:01-21:56 EDT.
        doc = json.loads(self.intervals("--interval", "1d", "--tz", "America/New_York",
                                        "--from", "2026-10-31", "--to", "2026-11-02",
                                        "--format", "json"))
        self.assertEqual([(r["start"], r["end"]) for r in doc["intervals"]],
                         [("2026-10-31T00:00:00-04:00", "2026-11-01T00:00:00-04:00"),
                          ("2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00")])
        self.assertEqual([r["wh"] for r in doc["intervals"]],
                         [POINTS[-1][1] * 1000 - POINTS[0][1] * 1000, None])
        xml = self.intervals("--interval", "1d", "--tz", "America/New_York", "--from",
                             "2026-11-01", "--to", "2026-11-02", "--format", "espi")
        block = ET.fromstring(xml).find(".//%sIntervalBlock/%sinterval" % (ESPI, ESPI))
        self.assertEqual(block.find(ESPI + "duration").text, "90000")
        for args in (["--interval", "5m", "--from", T0_ISO, "--to", "2026-11-02"],
                     ["--interval", "1h"],
                     ["--interval", "1h", "--from", T0_ISO, "--to", "2026-11-02", "--format",
                      "pdf"],
                     ["--interval", "1h", "--tz", "Nowhere/Town", "--from", T0_ISO, "--to",
                      "2026-11-02"]):
            p = run(BINARY, "readings", "--db", self.db, *args)
            self.assertEqual(p.returncode, 2, args)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
