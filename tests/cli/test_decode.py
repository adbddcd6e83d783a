"""CLI contract of `imsmeter decode` (SPEC "Command-line contract"), through the real binary."""
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import corpus  # noqa: E402

BINARY = None
VECTORS = json.load(open(os.environ["IMSM_VECTORS"]))


def run(*args, stdin=None):
    return subprocess.run([BINARY, *args], input=stdin, capture_output=True, timeout=60)


# A child's ru_maxrss includes the memory of the process it was forked from, so the binary is
# started by a fresh, small Python that reports the peak RSS of its own child (KiB on Linux).
PEAK_RSS = """import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_kib(args):
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, *args], capture_output=True,
                         timeout=120, check=True).stdout.split()
    assert out[0] == b"0", out
    return int(out[1])


def lines(stdout):
    return [json.loads(l) for l in stdout.decode().splitlines() if l.strip()]


class DecodeContract(unittest.TestCase):
    def test_guide_2_5_2_worked_example_from_hex(self):
        for v in VECTORS["frames"]:
            spaced = " ".join(v["raw"][i:i + 2] for i in range(0, len(v["raw"]), 2))
            for text in (v["raw"], spaced, " ".join("0x" + b for b in spaced.split())):
                p = run("decode", "--hex", text)
                self.assertEqual(p.returncode, 0, p.stderr)
                out = lines(p.stdout)
                self.assertEqual(len(out), 1)
                f = out[0]
                self.assertEqual(f["offset"], 0)
                self.assertEqual(f["meter_id"], v["meter_id"])
                self.assertEqual(f["peak_demand_counts"], v["peak_demand_counts"])
                self.assertEqual(f["demand_resets"], v["demand_resets"])
                self.assertEqual(f["total_kwh"], v["total_kwh"])
                self.assertEqual(f["raw"], v["raw"])
                # The kW value is printed exactly as in the guide ("66.26").
                self.assertIn('"peak_demand_kw":%s,' % v["peak_demand_kw"], p.stdout.decode())
                self.assertIn(b": 1 frame, 12 bytes", p.stderr)  # singular: "1 frame"

    def test_key_order_and_names_match_the_contract(self):
        p = run("decode", "--hex", VECTORS["frames"][0]["raw"])
        keys = list(json.loads(p.stdout.decode().splitlines()[0]).keys())
        self.assertEqual(keys, ["offset", "meter_id", "peak_demand_counts", "peak_demand_kw",
                                "demand_resets", "total_kwh", "raw"])

    def test_reads_a_file_and_stdin_alike(self):
        raw = bytes.fromhex(VECTORS["frames"][0]["raw"]) * 3
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cap.bin")
            open(path, "wb").write(raw)
            a = run("decode", path)
            b = run("decode", "-", stdin=raw)
            c = run("decode", stdin=raw)
        self.assertEqual(a.returncode, 0)
        self.assertEqual(a.stdout, b.stdout)
        self.assertEqual(a.stdout, c.stdout)
        self.assertEqual([f["offset"] for f in lines(a.stdout)], [0, 12, 24])

    def test_table_format_for_people(self):
        p = run("decode", "--format", "table", "--hex", VECTORS["frames"][0]["raw"])
        self.assertEqual(p.returncode, 0)
        text = p.stdout.decode()
        self.assertIn("meter_id", text.splitlines()[0])
        self.assertIn("66.26", text)
        self.assertIn("678299", text)

    def test_corpus_of_bad_streams(self):
        with tempfile.TemporaryDirectory() as d:
            for name in corpus.cases():
                with self.subTest(case=name):
                    path = corpus.materialise(name, d)
                    rc, frames, summary = corpus.run_decode(BINARY, path)
                    want = corpus.expected(name)
                    self.assertEqual(rc, 0)
                    self.assertEqual(frames, want["frames"])
                    self.assertEqual(summary, want["summary"])
                    self.assertEqual(summary["frames"] * 12 + summary["skipped"], summary["bytes"])

    def test_missing_file_exits_1_naming_the_path(self):
        p = run("decode", "/nonexistent/capture.bin")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"/nonexistent/capture.bin", p.stderr)
        self.assertEqual(p.stdout, b"")

    def test_unreadable_directory_exits_1(self):
        with tempfile.TemporaryDirectory() as d:
            p = run("decode", d)
        self.assertEqual(p.returncode, 1)

    def test_bad_hex_exits_2_and_prints_no_frame(self):
        good = VECTORS["frames"][0]["raw"]
        for bad in ("zz", "0a1", "0x", "0a 1g"):
            with self.subTest(hex=bad):
                p = run("decode", "--hex", good, "--hex", bad)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(p.stdout, b"")
                self.assertIn(b"--hex", p.stderr)

    def test_bad_options_exit_2(self):
        for args in (["decode", "--format", "xml", "--hex", "00"], ["decode", "--gap-ms", "-1", "--hex", "00"],
                     ["decode", "--bogus"], ["nosuchcommand"], []):
            with self.subTest(args=args):
                self.assertEqual(run(*args).returncode, 2)

    def test_bad_times_sidecar_exits_2_naming_the_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cap.bin")
            open(path, "wb").write(bytes.fromhex(VECTORS["frames"][0]["raw"]) * 2)
            open(path + ".times", "w").write("0 0.0\n12 abc\n")
            p = run("decode", path)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b".times:2", p.stderr)
            p = run("decode", "--no-times", path)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(len(lines(p.stdout)), 2)

    def test_garbage_never_crashes_and_prints_no_frame(self):
        rng = random.Random(1124)
        for size in (0, 1, 11, 12, 13, 4096, 200000):
            data = bytes(rng.choice([b for b in range(256) if b != 0x0D]) for _ in range(size))
            p = run("decode", stdin=data)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(p.stdout, b"")
        # Random bytes including stop bytes: whatever frames appear are real windows.
        data = bytes(rng.getrandbits(8) for _ in range(300000))
        p = run("decode", stdin=data)
        self.assertEqual(p.returncode, 0)
        for f in lines(p.stdout):
            window = data[f["offset"]:f["offset"] + 12]
            self.assertEqual(window.hex(), f["raw"])
            self.assertEqual(window[6:8], b"\0\0")
            self.assertEqual(window[11], 0x0D)

    def test_live_pty_frames_are_timed_and_split_at_gaps(self):
        """decode on a serial device (a pty here): raw 9600 8N1, bytes timed on arrival, the
        idle-gap rule applied, each frame printed as it arrives."""
        import pty, time, tty
        master, slave = pty.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        proc = subprocess.Popen([BINARY, "decode", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.5)
            good = bytes.fromhex(VECTORS["frames"][0]["raw"])
            os.write(master, good)
            time.sleep(0.2)
            first = proc.stdout.readline()  # printed before the input ends
            self.assertTrue(first, "no frame printed while the port is open")
            os.write(master, good[:7])      # a truncated frame, then silence...
            time.sleep(0.2)
            os.write(master, good)          # ...so this frame must not merge with it
            time.sleep(0.2)
        finally:
            os.close(slave)
            os.close(master)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        frames = [json.loads(first)] + lines(out)
        self.assertEqual(len(frames), 2, frames)
        self.assertEqual([f["burst"] for f in frames], ["alone", "alone"])
        self.assertGreater(frames[1]["time_s"] - frames[0]["time_s"], 0.3)
        self.assertIn(b"cut_by_gap 7", err)

    # --- issue 14: a user's first hour ------------------------------------------------------
    def test_hex_then_a_file_reads_the_file(self):
        good = VECTORS["frames"][0]["raw"]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cap.bin")
            open(path, "wb").write(bytes.fromhex(good) * 2)
            p = run("decode", "--hex", good, path)
            self.assertEqual(p.returncode, 0, p.stderr)
            # 1 frame from --hex, then 2 from the file (offsets 0 and 12).
            self.assertEqual([f["offset"] for f in lines(p.stdout)], [0, 0, 12])
            self.assertIn(path.encode() + b": 2 frames", p.stderr)
        p = run("decode", "--hex", good, "/nonexistent/x.bin")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"/nonexistent/x.bin: No such file", p.stderr)
        self.assertNotIn(b"expected", p.stderr)  # not parsed as hex

    def test_gap_ms_zero_says_what_is_allowed(self):
        for bad in ("0", "-1", "60001"):
            with self.subTest(gap=bad):
                p = run("decode", "--gap-ms", bad, "--hex", "00")
                self.assertEqual(p.returncode, 2)
                self.assertIn(b"must be more than 0 and at most 60000", p.stderr)

    def test_csv_output_has_the_json_keys(self):
        v = VECTORS["frames"][0]
        p = run("decode", "--format", "csv", "--hex", v["raw"], "--hex", v["raw"])
        self.assertEqual(p.returncode, 0, p.stderr)
        import csv, io
        rows = list(csv.DictReader(io.StringIO(p.stdout.decode())))
        self.assertEqual(len(rows), 2)
        self.assertEqual(list(rows[0].keys()), ["offset", "meter_id", "peak_demand_counts",
                                                "peak_demand_kw", "demand_resets", "total_kwh", "raw"])
        self.assertEqual(rows[0]["peak_demand_kw"], v["peak_demand_kw"])  # "66.26", exact
        self.assertEqual(int(rows[0]["total_kwh"]), v["total_kwh"])
        self.assertEqual(rows[1]["raw"], v["raw"])

    def timed_capture(self, d, times_text, copies=2):
        path = os.path.join(d, "cap.bin")
        open(path, "wb").write(bytes.fromhex(VECTORS["frames"][0]["raw"]) * copies)
        open(path + ".times", "w").write(times_text)
        return path

    def test_table_timing_headers_sit_above_their_data(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.timed_capture(d, "0 0\n12 300.5\n")
            for fmt in ("table", "csv"):
                p = run("decode", "--format", fmt, path)
                self.assertEqual(p.returncode, 0, p.stderr)
                head, *rows = p.stdout.decode().splitlines()
                if fmt == "csv":
                    self.assertEqual(head.split(",")[-2:], ["time_s", "burst"])
                    self.assertEqual(rows[1].split(",")[-2:], ["300.500000", "alone"])
                    continue
                # The header word ends where the right-aligned value ends; burst starts with
                # its value.
                self.assertEqual(head.index("time_s") + len("time_s"),
                                 rows[1].index("300.500000") + len("300.500000"))
                self.assertEqual(head.index("burst"), rows[1].index("alone"))

    def test_empty_sidecar_is_untimed_and_said(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.timed_capture(d, "")
            p = run("decode", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            frames = lines(p.stdout)
            # Untimed: both back-to-back frames decode (a timed reading of an empty sidecar
            # would put them at time 0 in one burst) and carry no time_s.
            self.assertEqual(len(frames), 2)
            self.assertNotIn("time_s", frames[0])
            self.assertIn(b"holds no timing line", p.stderr)

    def test_absurd_time_is_bad_input_not_an_overflow(self):
        with tempfile.TemporaryDirectory() as d:
            # 9,999,999,999 s is past int64 nanoseconds; 10^9 s (31.7 years) is the limit.
            path = self.timed_capture(d, "0 0\n12 9999999999\n")
            p = run("decode", path)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b".times:2", p.stderr)
            self.assertIn(b"9999999999", p.stderr)
            self.assertEqual(p.stdout, b"")
            path = self.timed_capture(d, "0 0\n12 1000000000\n")
            p = run("decode", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(lines(p.stdout)[1]["time_s"], 1000000000.0)

    def test_long_sidecar_streams_in_constant_memory(self):
        """decode (and collect, through the same reader) streams the sidecar: every frame gets
        its own time, and the peak memory of a capture with 4x the bursts is about the same.
        Reading the sidecar whole (text, a copy of it, 16-byte marks) cost ~84 bytes per burst
        here: the 600,000 more bursts measured +50 MB before streaming (21.5 -> 72.2 MB)."""
        raw = bytes.fromhex(VECTORS["frames"][0]["raw"])
        peak_kib = {}
        with tempfile.TemporaryDirectory() as d:
            for n in (200000, 800000):
                path = os.path.join(d, "big%d.bin" % n)
                open(path, "wb").write(raw * n)
                with open(path + ".times", "w") as t:
                    t.writelines("%d %d.000000\n" % (12 * i, 300 * i) for i in range(n))
                if n == 200000:
                    p = run("decode", path)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    frames = lines(p.stdout)
                    self.assertEqual(len(frames), n)
                    self.assertEqual(frames[-1]["time_s"], (n - 1) * 300.0)
                    self.assertEqual({f["burst"] for f in frames}, {"alone"})
                peak_kib[n] = peak_rss_kib([BINARY, "decode", path])
        self.assertLess(peak_kib[800000] - peak_kib[200000], 4096, peak_kib)

    def test_live_pty_sigint_still_prints_the_summary(self):
        import pty, signal, time, tty
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig):
                master, slave = pty.openpty()
                tty.setraw(slave)
                proc = subprocess.Popen([BINARY, "decode", os.ttyname(slave)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    # No wait for decode to open the port: we hold the slave open, so the bytes
                    # queue in the pty until decode reads them (it sets raw mode with TCSANOW,
                    # which flushes nothing); the frame on stdout is the handshake.
                    os.write(master, bytes.fromhex(VECTORS["frames"][0]["raw"]))
                    first = json.loads(proc.stdout.readline())  # the frame arrived: handled
                    before = time.time()
                    proc.send_signal(sig)
                    out, err = proc.communicate(timeout=30)
                finally:
                    os.close(slave)
                    os.close(master)
                self.assertEqual(proc.returncode, 0, err)
                self.assertIn(b": 1 frame, 12 bytes", err)
                # Wall-clock time of arrival, ISO 8601 UTC, within the test's own clock.
                import datetime
                at = datetime.datetime.strptime(first["at"], "%Y-%m-%dT%H:%M:%S.%fZ")
                at_s = (at - datetime.datetime(1970, 1, 1)).total_seconds()
                self.assertLess(abs(at_s - before), 5.0)

    def test_help_and_version(self):
        for args in (["--help"], ["decode", "--help"], ["model", "--help"], ["--version"]):
            p = run(*args)
            self.assertEqual(p.returncode, 0, args)
            self.assertTrue(p.stdout.strip())


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
