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

    def test_text_format(self):
        p = run("model", VECTORS["models"][0]["number"], "--format", "text")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"nominal_voltage", p.stdout)
        self.assertIn(b"120/240", p.stdout)

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
