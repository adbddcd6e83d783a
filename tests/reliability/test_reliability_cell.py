"""The short CI cell of the reliability sweep (docs/reliability.md): 64 meters x 2 simulated
days x bit error rate 1e-4, with and without every meter registered, simulated, collected and
judged against the simulator's truth by the SPEC definitions (tests/reliability/sweep.py).

The issue's goal is asserted exactly where the validator meets it (no false accept in the meter
ID or the reset counter, no phantom meter, no false demand_reset/rollover/replaced/discovered
event, no kWh outside the envelope of the meter's true neighbours). Where it does not yet (a
flipped bit that lowers a rising peak, kWh bit errors inside the envelope, a few true frames
refused by hindsight), the measured figure is a ceiling that may only fall, named as a gap in the
message.
Skips, saying why, when this build has no `simulate` command."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402

BINARY = None
METERS, DAYS, BER = 64, 2, 1e-4
SEED = 20261201 + METERS  # the seed scripts/reliability uses for 64 meters

# Ceilings for the parts of the goal not met yet (measured at commit time; see
# docs/reliability.md "Gaps"). The goal for each is 0 (kWh inside: <= 1 per million frames).
GAP_CEILINGS = {
    False: {"false_peak": 1, "kwh_inside": 6, "missed": 1},
    True: {"false_peak": 1, "kwh_inside": 6, "missed": 1},
}


class ReliabilityCell(unittest.TestCase):
    def setUp(self):
        p = subprocess.run([BINARY, "simulate", "--help"], capture_output=True)
        if p.returncode != 0:
            self.skipTest("this imsmeter has no 'simulate' command: the sweep needs the simulator")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def cell(self, registry):
        c = sweep.run_cell(BINARY, METERS, DAYS, BER, registry, SEED, self.tmp.name)
        print(sweep.markdown_row(c), file=sys.stderr)
        return c

    def check(self, registry):
        c = self.cell(registry)
        # Sanity: the bus collided and the noise corrupted frames (else the cell proves little):
        # 64 meters x 2 days x 288 frames = 36,864 sent; at BER 1e-4 a 120-bit frame survives
        # with probability 0.9999^120 = 98.8%, so at least a few hundred are not intact.
        self.assertGreater(c["intact"], 30_000)
        self.assertLess(c["intact"], 36_864 - 200)
        # No kWh outside the envelope: before "kWh off the line" the cell without a registry had
        # one (a raised low bit kept, the true frame after it rejected as kwh_backwards).
        for k in ("false_id", "false_resets", "phantom_ids", "false_events", "false_replaced",
                  "false_rollover", "false_demand_reset", "false_discovered", "phantom_silent",
                  "false_kwh_outside"):
            self.assertEqual(c.get(k, 0), 0, "goal: %s must be 0 (registry=%s)" % (k, registry))
        gaps = {"false_peak": c.get("false_peak", 0),
                "kwh_inside": c.get("false_kwh", 0) - c.get("false_kwh_outside", 0),
                "false_kwh_outside": c.get("false_kwh_outside", 0),
                "missed": c["intact"] - c["recovered"]}
        for k, ceiling in GAP_CEILINGS[registry].items():
            self.assertLessEqual(gaps[k], ceiling,
                                 "%s = %d above its ceiling %d (goal 0; registry=%s; misses %s)"
                                 % (k, gaps[k], ceiling, registry, c["miss_reasons"]))

    def test_cell_with_every_meter_registered(self):
        self.check(True)

    def test_cell_discovering_every_meter(self):
        self.check(False)


class NoisyCell(unittest.TestCase):
    """64 meters x 4 days x BER 1e-3, with and without a registry: no meter is invented from bit
    errors (docs/collector.md "Corrupted IDs"). Before that rule this cell discovered phantom
    ID 47958 (meter 47990 with bit 5 flipped in two consecutive frames), stored 2 readings
    under it and rejected 12 intact frames as `collision_phantom`, in both cells."""
    # Measured at commit time; ceilings that may only fall (the goal for each is 0).
    # Before "kWh off the line": missed 42 / 21, kWh outside the envelope 22 / 19. Before the
    # rules of 2026-12-07 evening (docs/reliability.md last section), main's binary at b8c0504:
    # missed 28 / 12, false events 31 / 31, kWh outside 13 / 11; at 484aa91 missed 27 / 10,
    # false events 15 / 17, kWh outside 8 / 8; after a peak beyond the meter's energy no longer
    # retracted the reading before it (e00dfa3) missed 25 / 9, false events 12 / 15, kWh outside
    # 8 / 8; after one steady load told a raised reading (a05f319) missed 22 / 6, kWh outside 5 /
    # 5; since noise no longer rejects a held frame that may show it (d14dc3c) missed 18 / 5,
    # false events 12 / 15, kWh outside 5 / 5; since two errors in a row are told from a new
    # meter or a reset (9697d47, 3fc619a, 8260a48; 12947d0 fails these), as below.
    CEILINGS = {False: {"missed": 18, "false_events": 2, "false_kwh_outside": 5},
                True: {"missed": 5, "false_events": 2, "false_kwh_outside": 3}}

    def check(self, registry):
        with tempfile.TemporaryDirectory() as tmp:
            c = sweep.run_cell(BINARY, 64, 4, 1e-3, registry, 20261201 + 64, tmp)
        print(sweep.markdown_row(c), file=sys.stderr)
        for k in ("phantom_ids", "false_id", "false_discovered"):
            self.assertEqual(c.get(k, 0), 0, "goal: %s must be 0 (registry=%s)" % (k, registry))
        for reason in ("collision_phantom", "corrupted_id"):
            self.assertEqual(c["miss_reasons"].get(reason, 0), 0,
                             "intact frames rejected as %s (registry=%s)" % (reason, registry))
        got = {"missed": c["intact"] - c["recovered"], "false_events": c.get("false_events", 0),
               "false_kwh_outside": c.get("false_kwh_outside", 0)}
        for k, ceiling in self.CEILINGS[registry].items():
            self.assertLessEqual(got[k], ceiling, "%s = %d above its ceiling %d (registry=%s)"
                                 % (k, got[k], ceiling, registry))

    def test_noisy_cell_with_every_meter_registered(self):
        self.check(True)

    def test_noisy_cell_discovering_every_meter(self):
        self.check(False)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
