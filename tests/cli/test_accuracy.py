"""CLI contract of `imsmeter accuracy` (meter issue; research/metrology.md 6; guide 1 accuracy class)."""
import json
import os
import subprocess
import sys
import unittest

BINARY = None
VECTORS = json.load(open(os.environ["IMSM_VECTORS"]))

SERVICES = {"1ph-2w 120", "1ph-2w 277", "1ph-3w 120/240", "1ph-3w 120/208", "1ph-3w 277/480",
            "3ph-4w-wye 120/208", "3ph-4w-wye 277/480", "3ph-4w-wye 347/600", "3ph-4w-delta 120/208"}
KEYS = ["case", "service", "voltage_v", "current_percent", "pf", "frequency_hz", "expected_wh",
        "registered_wh", "error_ppm", "limit_ppm", "pass"]


def run(*args):
    return subprocess.run([BINARY, "accuracy", *args], capture_output=True, timeout=120)


class AccuracyContract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.default = run("--format", "json")
        cls.doc = json.loads(cls.default.stdout)

    def test_default_matrix_passes_with_exit_0(self):
        self.assertEqual(self.default.returncode, 0, self.default.stderr)
        self.assertIs(self.doc["pass"], True)
        for p in self.doc["points"]:
            self.assertTrue(p["pass"], p)
            self.assertLessEqual(abs(p["error_ppm"]), p["limit_ppm"], p)

    def test_point_structure(self):
        for p in self.doc["points"]:
            for k in KEYS:
                self.assertIn(k, p)
            self.assertIn(p["case"], {"sine", "harmonics", "creep", "reversed_ct", "wrong_phase"})

    def test_core_block_9_services_x_7_currents_x_3_pf_x_2_frequencies(self):
        core = [p for p in self.doc["points"] if p["case"] == "sine" and p["current_percent"] >= 1
                and p["current_percent"] <= 100 and p["pf"] in (1.0, 0.5)
                and (p.get("high_leg_v") in (None, 207.8))]
        self.assertGreaterEqual(len(core), 378)
        self.assertEqual({p["service"] for p in core}, SERVICES)
        combos = {(p["service"], p["current_percent"], p["pf"], p["pf_sense"], p["frequency_hz"]) for p in core}
        self.assertEqual(len(combos), 378)
        self.assertGreaterEqual(self.doc["core_points"], 378)

    def test_issue_limits(self):
        for p in self.doc["points"]:
            if p["case"] == "creep":
                self.assertEqual(p["registered_wh"], 0.0)
                self.assertEqual(p["expected_wh"], 0.0)
            elif p["case"] == "harmonics":
                self.assertLessEqual(p["limit_ppm"], 100)
            elif p["current_percent"] < 1:
                self.assertLessEqual(p["limit_ppm"], 200)
            else:
                self.assertLessEqual(p["limit_ppm"], 50)

    def test_all_cases_and_extra_points_present(self):
        cases = {p["case"] for p in self.doc["points"]}
        self.assertEqual(cases, {"sine", "harmonics", "creep", "reversed_ct", "wrong_phase"})
        currents = {p["current_percent"] for p in self.doc["points"] if p["case"] == "sine"}
        self.assertTrue({0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 120} <= currents)
        legs = {p["high_leg_v"] for p in self.doc["points"] if p["high_leg_v"] is not None}
        self.assertEqual(legs, {175.0, 207.8, 240.0})
        pfs = {(p["pf"], p["pf_sense"]) for p in self.doc["points"] if p["case"] == "sine"}
        self.assertTrue({(1.0, "unity"), (0.5, "lag"), (0.5, "lead"), (0.866, "lag")} <= pfs)

    def test_reversed_ct_registers_one_third_on_three_elements(self):
        wye = [p for p in self.doc["points"] if p["case"] == "reversed_ct" and p["service"].startswith("3ph-4w-wye")]
        self.assertTrue(wye)
        for p in wye:
            # balanced load at 50 % of rated for 1 s: full registration would be 3x expected
            self.assertGreater(p["expected_wh"], 0)
            self.assertAlmostEqual(p["registered_wh"] / p["expected_wh"], 1.0, places=6)

    def test_error_model_within_class(self):
        p = run("--error-model", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertIs(doc["pass"], True)
        self.assertTrue(doc["error_model"])
        nonzero = 0
        for q in doc["points"]:
            if q["case"] == "sine" and 1 <= q["current_percent"] <= 100:
                limit = 5000 if q["pf"] == 1.0 else 7500
                self.assertLessEqual(abs(q["error_ppm"]), limit, q)
                nonzero += abs(q["error_ppm"]) > 100
        self.assertGreater(nonzero, 100)  # the model does change registration

    def test_single_model_and_table(self):
        p = run("--model", "S2-208-N-01-01-081-01", "--format", "table")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"PASS", p.stdout)
        self.assertNotIn(b"FAIL", p.stdout)

    def test_a_point_over_its_limit_exits_1(self):
        # 0.37 s is not a whole number of cycles: the 2w ripple of v*i is then left over in
        # the registered energy (hundreds of ppm at PF 0.5), which the limits must catch.
        p = run("--model", "S1-120-N-01-01-011-00", "--seconds", "0.37", "--format", "json")
        self.assertEqual(p.returncode, 1, p.stderr)
        doc = json.loads(p.stdout)
        self.assertIs(doc["pass"], False)
        bad = [q for q in doc["points"] if not q["pass"]]
        self.assertTrue(bad)
        for q in bad:
            self.assertGreater(abs(q["error_ppm"]), q["limit_ppm"])

    def test_bad_model_exits_2(self):
        p = run("--model", "S9-999-X")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"S9-999-X", p.stderr)

    def test_bad_format_exits_2(self):
        self.assertEqual(run("--format", "xml").returncode, 2)

    def test_help(self):
        p = subprocess.run([BINARY, "accuracy", "--help"], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--error-model", p.stdout)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
