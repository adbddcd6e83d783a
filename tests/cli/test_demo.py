"""imsmeter demo: a bounded run through the real binary (simulate and collect as its child
processes, the dashboard served), checked in the database it leaves behind."""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import jsonl, query, run  # noqa: E402

BINARY = None


class DemoTest(unittest.TestCase):
    def test_bounded_run_serves_the_building(self):
        with tempfile.TemporaryDirectory() as d:
            # 20 s at 120x is 40 min of bus time: meter 104 loses power at 10 min and is silent
            # 3 cadences (15 min) later; 2578's demand is reset at 30 min (demo_building.cpp).
            p = run(BINARY, "demo", "--duration", "20s", "--speed", "120", "--port", "0",
                    "--dir", d, timeout=120)
            out = p.stdout.decode()
            self.assertEqual(p.returncode, 0, out + p.stderr.decode())
            self.assertRegex(out, r"dashboard: http://127\.0\.0\.1:\d+/")
            served = re.search(r"^demo: the API served (\d+) meters \((\d+) with readings\) and "
                               r"(\d+) readings$", out, re.M)
            self.assertIsNotNone(served, out)
            db = os.path.join(d, "demo.db")
            # The API was asked while the bus still ran: the database (read with sqlite3) holds
            # what it served and the few readings committed after, before the demo stopped.
            stored = query(db, "SELECT count(*) FROM readings")[0][0]
            self.assertLessEqual(int(served.group(3)), stored)
            self.assertGreaterEqual(int(served.group(3)), stored - 24)  # under one cadence more
            self.assertEqual(served.group(1, 2), ("24", "24"))
            heard = {r[0] for r in query(db, "SELECT DISTINCT meter_id FROM readings")}
            self.assertEqual(len(heard), 24)
            registered = {r[0] for r in query(db, "SELECT id FROM meters WHERE registered = 0")}
            self.assertEqual(registered, {501, 502})  # discovered, not configured
            events = jsonl(run(BINARY, "events", "--db", db).stdout)
            kinds = {(e["kind"], e["meter_id"]) for e in events}
            self.assertIn(("silent", 104), kinds)
            self.assertIn(("demand_reset", 2578), kinds)

    def test_bad_duration_is_a_usage_error(self):
        p = run(BINARY, "demo", "--duration", "soon")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--duration", p.stderr.decode())


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
