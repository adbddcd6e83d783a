"""CLI contract of `imsmeter meter` (issue 13 item 4; guide 2.3 pulse outputs, 2.4 LCD cycle
and key switch, 3.8 LEDs): timed lines without a terminal, and the live screen through a pty
(keys in, screen out)."""
import json
import os
import pty
import select
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = None
VECTORS = json.load(open(os.environ["IMSM_VECTORS"]))
DEMAND_MODEL = "S1-120-N-01-01-011-01"  # 1ph-2w 120 V, 100:0.1 CT, demand option


def run(*args):
    return subprocess.run([BINARY, "meter", *args], capture_output=True, timeout=60)


def events(*args):
    p = run("--model", DEMAND_MODEL, "--speed", "max", "--format", "json", *args)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


class MeterTimedLines(unittest.TestCase):
    def test_pulse_edges_at_hand_computed_times(self):
        # 120 V x 100 A at PF 1 = 12 kW; Kh=10 toggles every 5 Wh = 18,000 J / 12,000 W
        # = 1.5 s exactly (the register starts at 0): on at 1.5, 4.5, ...; off at 3.0, 6.0 ...
        ev = events("--amps", "100", "--duration", "10s")
        edges = [(e["t_ns"], e["on"]) for e in ev if e["event"] == "pulse" and e["output"] == "kh10"]
        expect = [(1_500_000_000 * k, k % 2 == 1) for k in range(1, 7)]
        self.assertEqual(edges, expect)
        d2 = [(e["t_ns"], e["on"]) for e in ev if e["event"] == "led" and e["led"] == "D2"]
        self.assertEqual(d2, expect)  # D2 follows the 10 Wh output

    def test_lcd_cycle_with_demand(self):
        # guide 2.4: kWh 0-6 s, instantaneous 6-12 s, peak 12-18 s, all segments 18-19 s
        ev = events("--duration", "39s")
        lcd = [(e["t_ns"] // 1_000_000_000, e["mode"]) for e in ev if e["event"] == "display"]
        self.assertEqual(lcd[:5], [(0, "total_kwh"), (6, "inst_demand"), (12, "peak_demand"),
                                   (18, "all_segments"), (19, "total_kwh")])
        self.assertEqual(lcd[5:9], [(25, "inst_demand"), (31, "peak_demand"), (37, "all_segments"),
                                    (38, "total_kwh")])

    def test_key_in_peak_window_counts_and_shows_in_frame(self):
        # a key at 13 s (peak window 12-18 s) resets: the frame at 300 s carries counter 1
        # (byte 6); a key at 3 s (kWh on the LCD) does not count
        ev = events("--duration", "301s", "--key-at", "3", "--key-at", "13")
        frames = [e for e in ev if e["event"] == "frame"]
        self.assertEqual(len(frames), 1)
        self.assertEqual(frames[0]["t_ns"], 300_000_000_000)
        raw = bytes.fromhex(frames[0]["hex"])
        self.assertEqual(raw[5], 1)
        self.assertEqual(raw[1:3], (1).to_bytes(2, "big"))
        keys = [(e["t_ns"], e["position"]) for e in ev if e["event"] == "key"]
        self.assertEqual(keys, [(3_000_000_000, "right"), (3_300_000_000, "locked"),
                                (13_000_000_000, "right"), (13_300_000_000, "locked")])

    def test_text_lines(self):
        p = run("--model", DEMAND_MODEL, "--speed", "max", "--duration", "7s")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b'LCD "       0 kWh" (total_kwh)', p.stdout)
        self.assertIn(b"[       6.000 s] LCD", p.stdout)

    def test_bad_arguments_exit_2(self):
        self.assertEqual(run("--model", "XX").returncode, 2)
        self.assertEqual(run("--model", DEMAND_MODEL, "--speed", "fast").returncode, 2)
        self.assertEqual(run("--model", DEMAND_MODEL, "--pf", "2").returncode, 2)
        self.assertEqual(run("--model", DEMAND_MODEL, "--duration", "soon").returncode, 2)
        self.assertEqual(run().returncode, 2)  # --model is required

    def test_help(self):
        p = run("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--key-at", p.stdout)


FLEET = """seed = 1
[[bus]]
name = "main"
[[meter]]
id = 7
model = "S1-120-N-01-01-011-01"
power_up_s = 2.0
drift_ppm = 0.0
[meter.load]
kind = "constant"
current_a = 100.0
pf = 1.0
[[meter.key_press]]
at_s = 16.0
"""


class SimulateTrace(unittest.TestCase):
    def test_trace_against_hand_computed_times(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "f.toml")
            with open(cfg, "w") as f:
                f.write(FLEET)
            trace = os.path.join(d, "t.jsonl")
            p = subprocess.run([BINARY, "simulate", "--config", cfg, "--duration", "310s", "--out",
                                "file:" + os.path.join(d, "bus.bin"), "--speed", "max",
                                "--trace", "7", "--trace-file", trace], capture_output=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(trace) as f:
                ev = [json.loads(line) for line in f]
        # power-up at 2 s (bus time); 12 kW toggles the 10 Wh output every 1.5 s after it
        self.assertEqual(ev[0], {"t_ns": 2_000_000_000, "event": "power", "on": True})
        edges = [(e["t_ns"], e["on"]) for e in ev if e["event"] == "pulse" and e["output"] == "kh10"]
        self.assertEqual(edges[:4], [(3_500_000_000, True), (5_000_000_000, False),
                                     (6_500_000_000, True), (8_000_000_000, False)])
        # up to 310 s: 308 s after power-up x 12 kW = 1026.67 Wh: floor(1026.67 / 5) = 205
        # toggles of the 10 Wh output
        self.assertEqual(len(edges), 205)
        kh1000 = [(e["t_ns"], e["on"]) for e in ev if e["event"] == "pulse" and e["output"] == "kh1000"]
        # 500 Wh at 12 kW = 150 s, 1000 Wh = 300 s after power-up
        self.assertEqual(kh1000, [(152_000_000_000, True), (302_000_000_000, False)])
        # the key at 16 s is 14 s after power-up: peak demand shows (12-18 s), so it resets
        keys = [(e["t_ns"], e["position"]) for e in ev if e["event"] == "key"]
        self.assertEqual(keys, [(16_000_000_000, "right"), (16_500_000_000, "locked")])
        lcd = [(e["t_ns"], e["mode"]) for e in ev if e["event"] == "display"][:3]
        self.assertEqual(lcd, [(2_000_000_000, "total_kwh"), (8_000_000_000, "inst_demand"),
                               (14_000_000_000, "peak_demand")])
        frames = [e for e in ev if e["event"] == "frame"]
        self.assertEqual([f["t_ns"] for f in frames], [302_000_000_000])
        # ID 7, peak 0 (no 15 minutes yet), resets 1, kWh 1 (12 kW x 300 s = 1 kWh)
        self.assertEqual(frames[0]["hex"], "00000700000100000000010d")

    def test_trace_unknown_meter_exits_2(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "f.toml")
            with open(cfg, "w") as f:
                f.write(FLEET)
            p = subprocess.run([BINARY, "simulate", "--config", cfg, "--duration", "10s", "--out",
                                "file:" + os.path.join(d, "bus.bin"), "--speed", "max",
                                "--trace", "8", "--trace-file", os.path.join(d, "t")],
                               capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"--trace 8", p.stderr)


SCREEN_END = b"q quits\r"  # the last line of every screen (cmd_meter.cpp draw()); a pty
# turns its "\r\n" into "\r\r\n"


class MeterOnATerminal(unittest.TestCase):
    def read_until(self, fd, needle, timeout):
        buf = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                # the screen is redrawn from the top: look at the latest complete screen
                # only (a pty read can end mid-screen; every screen ends with the key line)
                screen = buf.rsplit(b"\x1b[2J", 1)[-1]
                if needle in screen and SCREEN_END in screen:
                    return screen
        self.fail("never saw %r; last screen: %r" % (needle, buf.rsplit(b"\x1b[2J", 1)[-1]))

    def test_key_press_in_peak_window_resets_and_q_quits(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(BINARY, [BINARY, "meter", "--model", DEMAND_MODEL, "--amps", "100",
                              "--speed", "10"])
        try:
            screen = self.read_until(fd, b"kWh", 10)
            self.assertIn(b"D1 reverse phase ( )", screen)
            self.assertIn(b"Demand resets: 0", screen)
            self.read_until(fd, b".peak", 10)  # peak demand on the LCD (12-18 s = 1.2 s wall)
            os.write(fd, b" ")                  # a key press turns the key switch
            self.read_until(fd, b"Demand resets: 1", 5)
            screen = self.read_until(fd, b"D2 10 Wh (*)", 10)  # the 10 Wh LED blinks
            os.write(fd, b"q")
            _, status = os.waitpid(pid, 0)
            pid = None
            self.assertEqual(os.WEXITSTATUS(status), 0)
        finally:
            if pid is not None:  # the child we started, if it did not quit
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            os.close(fd)

    def run_on_pty(self, args, needles, timeout=10):
        """Starts `imsmeter meter ARGS` on a pty; returns the screens where each needle showed."""
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(BINARY, [BINARY, "meter", "--model", DEMAND_MODEL, *args])
        screens = []
        try:
            for n in needles:
                screens.append(self.read_until(fd, n, timeout))
            os.write(fd, b"q")
            _, status = os.waitpid(pid, 0)
            pid = None
            self.assertEqual(os.WEXITSTATUS(status), 0)
        finally:
            if pid is not None:  # the child we started, if it did not quit
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            os.close(fd)
        return screens

    def test_residential_load_follows_its_daily_shape(self):
        # The residential shape (sim/load_profile.cpp, docs/simulate.md "Loads") is 1.00 of
        # the peak at 19 h and 0.95 at 20 h, linear between; noise 0, and `meter` does not
        # shift the shape. Starting at Monday 19:00 with a 100 A peak: 100.00 A; one 60 s
        # step later (1 s of wall time at x60) 100 x (1 - 0.05 / 60) = 99.92 A.
        screens = self.run_on_pty(["--load", "residential", "--amps", "100", "--noise", "0",
                                   "--start-at", "19h", "--speed", "60"],
                                  [b"I = 100.00 A", b"I = 99.92 A"])
        self.assertIn(b"Load: residential", screens[0])
        self.assertIn(b"(profile Mon 19:00)", screens[0])
        self.assertIn(b"(profile Mon 19:01)", screens[1])

    def test_csv_load_registers_its_hand_computed_energy(self):
        # 50 A for the first half hour, 100 A after, at 120 V PF 1: 3 kWh + 6 kWh = 9 kWh in
        # one hour = 900 pulses of the 10 Wh output and 9 of the 1 kWh output, exactly.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "load.csv")
            with open(path, "w") as f:
                f.write("t_s,i1_a\n0,50\n1800,100\n")
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(BINARY, [BINARY, "meter", "--model", DEMAND_MODEL, "--load",
                                  "csv:" + path, "--speed", "100000", "--duration", "1h"])
            try:
                screen = self.read_until(fd, b"10 Wh x 900 ", 20)
                self.assertIn(b"1 kWh x 9 ", screen)
                self.assertIn(b"I = 100.00 A", screen)
                _, status = os.waitpid(pid, 0)  # --duration reached: it exits by itself
                pid = None
                self.assertEqual(os.WEXITSTATUS(status), 0)
            finally:
                if pid is not None:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                os.close(fd)


class MeterLoadLines(unittest.TestCase):
    def test_office_load_changes_at_each_step_in_json(self):
        # The office weekday shape (sim/load_profile.cpp) is 0.60 of the peak at 7 h and 0.90
        # at 8 h, linear between: starting Monday 07:00 with a 100 A peak and 10-minute steps,
        # the load reads 60 A, then 60 + 30 x 10/60 = 65 A, then 70 A (noise 0).
        ev = events("--load", "office", "--amps", "100", "--noise", "0", "--start-at", "7h",
                    "--load-step", "10m", "--duration", "30m")
        loads = [(e["t_ns"], round(e["current_a"][0], 9)) for e in ev if e["event"] == "load"]
        self.assertEqual(loads, [(0, 60.0), (600_000_000_000, 65.0), (1_200_000_000_000, 70.0)])
        # The energy: 120 V x (60 + 65 + 70) A x 600 s = 14.04 MJ = 3900 Wh: 390 pulses of
        # 10 Wh, the last completed at 3900 Wh.
        pulses = [e for e in ev if e["event"] == "pulse" and e["output"] == "kh10"]
        self.assertEqual(pulses[-1]["pulses"], 390)

    def test_bad_load_arguments_exit_2_and_name_them(self):
        p = run("--model", DEMAND_MODEL, "--load", "factory")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--load", p.stderr)
        self.assertIn(b"factory", p.stderr)
        p = run("--model", DEMAND_MODEL, "--load", "csv:/nonexistent/x.csv")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"/nonexistent/x.csv", p.stderr)
        p = run("--model", DEMAND_MODEL, "--load", "office", "--load-step", "0s")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--load-step", p.stderr)
        p = run("--model", DEMAND_MODEL, "--load", "office", "--noise", "3")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--noise", p.stderr)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
