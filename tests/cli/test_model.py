"""CLI contract of `imsmeter model` (SPEC "Model numbers", guide 2.1)."""
import json
import os
import subprocess
import sys
import unittest

BINARY = None
VECTORS = json.load(open(os.environ["IMSM_VECTORS"]))
KEYS = ["format", "series", "service", "elements", "nominal_voltage", "ct_primary_a", "ct_secondary_a",
        "ct_type", "enclosure", "capacity", "installed", "demand"]


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, timeout=30)


class ModelContract(unittest.TestCase):
    def test_guide_2_1_vectors(self):
        for v in VECTORS["models"]:
            with self.subTest(number=v["number"]):
                p = run("model", v["number"])
                self.assertEqual(p.returncode, 0, p.stderr)
                got = json.loads(p.stdout)
                for k in KEYS:
                    self.assertIn(k, got)
                    self.assertEqual(got[k], v["expect"][k], k)

    def test_text_format_is_a_nameplate_sentence(self):
        # guide 2.1 Figure 4: S2 = Series 2000; 480 = 277/480 V wye; N = indoor surface mount;
        # capacity 01, installed 01; 041 = 400:0.1; options 01 = demand.
        p = run("model", "S2-480-N-01-01-041-01", "--format", "text")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.decode(),
                         "Series 2000 (new format), 3-phase 4-wire wye 277/480 V, CT 400:0.1 (041), "
                         "indoor surface mount enclosure (N), 1 of 1 meters, demand option\n")
        self.assertNotIn(b"null", p.stdout)
        # guide 2.1 Figure 3: BL3 = Series 1000 3-wire, 240 = 120/240, 200:0.1, SP split core.
        p = run("model", "BL3-240-200-PKG-SP", "--format", "text")
        self.assertEqual(p.stdout.decode(),
                         "Series 1000 (old format), 1- or 2-phase 3-wire 120/240 V, CT 200:0.1, "
                         "split-core CTs (SP), demand option not stated by the old format\n")

    def test_positions_count_from_1_and_blame_the_right_field(self):
        # "S2-480-N-" is 9 characters: the capacity "1" (one digit, not two) is character 10.
        p = run("model", "S2-480-N-1-1-041-01")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"bad capacity at position 10", p.stderr)
        # "S2-480-N-01-01-" is 15 characters: the CT rating "051" starts at 16.
        p = run("model", "S2-480-N-01-01-051-01")
        self.assertIn(b"bad ct_rating at position 16", p.stderr)

    def test_invalid_numbers_exit_2_naming_the_field(self):
        cases = {"S2-480-N-01-01-051-01": "ct_rating", "S2-480-Q-01-01-041-01": "enclosure",
                 "BL3-240-300-PKG-SP": "ct_ratio", "S2-480-N-02-03-041-01": "installed",
                 "ZZ": "series", "BL3-240-200-PKG": "ct_type"}
        for number, field in cases.items():
            with self.subTest(number=number):
                p = run("model", number)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(p.stdout, b"")
                self.assertIn(field.encode(), p.stderr)

    def test_missing_argument_and_bad_format_exit_2(self):
        self.assertEqual(run("model").returncode, 2)
        self.assertEqual(run("model", "S2480N010104101", "--format", "yaml").returncode, 2)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
