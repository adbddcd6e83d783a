#!/usr/bin/env python3
"""The sweep's judge on hand-built truth and readings (docs/reliability.md definitions): what it
calls a false accept, and how it classifies one. Each expectation is derived beside it."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402


def raw(peak, resets, kwh):
    """Bytes 1-12 of meter 7's frame as hex (ID 0x0007, padding 0, stop 0x0D)."""
    return "000007%04x%02x0000%06x0d" % (peak, resets, kwh)


class Judge(unittest.TestCase):
    def setUp(self):
        # Meter 7 every 5 minutes: peaks 0x100, 0x110, 0x120, counter 0, 10 kWh a cadence.
        self.ts = [sweep.T0_US + i * 300_000_000 for i in range(3)]
        self.raws = [raw(0x100 + 0x10 * i, 0, 10 * i)[2:] for i in range(3)]
        self.truth = {7: (self.ts, self.raws, [True] * 3)}

    def judge(self, stored_raw):
        readings = [(7, self.ts[1], stored_raw, 1)]
        return sweep.judge(self.truth, readings, [], 0, [])

    def test_a_peak_between_its_true_neighbours_is_a_false_peak_reported_inside(self):
        # 0x118 lies in [0x100, 0x120], the counter as theirs: a false peak, inside.
        f = self.judge(raw(0x118, 0, 10))
        self.assertEqual(f["false_peak"], 1)
        self.assertEqual(f.get("false_peak_inside", 0), 1)

    def test_a_peak_above_the_next_true_one_is_not_inside(self):
        # 0x130 > 0x120: outside; and 0x118 with counter 1 differs from the neighbours' 0.
        self.assertEqual(self.judge(raw(0x130, 0, 10)).get("false_peak_inside", 0), 0)
        f = self.judge(raw(0x118, 1, 10))
        self.assertEqual(f["false_peak"], 1)
        self.assertEqual(f.get("false_peak_inside", 0), 0)

    def test_the_true_frame_is_recovered_and_no_false_accept(self):
        f = self.judge("00" + self.raws[1])
        self.assertEqual(f.get("false_accepts", 0), 0)
        self.assertEqual(f["recovered"], 1)


if __name__ == "__main__":
    unittest.main()
