#!/usr/bin/env python3
"""Collector figures (docs/performance.md "Collector"), printed as
"BENCH <group> <variant> <value> <unit>" lines for scripts/bench.

  bench/collector.py IMSMETER [--readings N] [--skip-figures]

N defaults to $IMSM_BENCH_READINGS, else 1 M under scripts/bench --quick, else 10 M.

1. bench_collector --figures N (from $IMSM_BUILD/bench): ingest of N readings (default 10 M)
   durable (WAL, synchronous=FULL) beside the naive one-transaction-per-row insert and
   `sqlite3 .import` of the same rows as CSV, same run; the bill over a database the same
   path wrote (--bill METERSxDAYS, default 1000x30; 200x7 under --quick).
2. Peak RSS (VmHWM) of `imsmeter collect` reading 1,000 meters live from a TCP converter
   played by this script (20 cycles at --clock-scale 1000), read from /proc before SIGTERM.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))
from collect_support import frame  # noqa: E402


def figures(n, bill):
    build = os.environ.get("IMSM_BUILD", os.path.join(HERE, "..", "build"))
    exe = os.path.join(build, "bench", "bench_collector")
    if not os.path.exists(exe):
        print("collector.py: %s missing, skipping the ingest figures" % exe, file=sys.stderr)
        return
    p = subprocess.run([exe, "--figures", str(n), "--bill", bill], capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def rss_live(imsmeter, meters=1000, cycles=20):
    with tempfile.TemporaryDirectory() as d:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        db = os.path.join(d, "rss.db")
        proc = subprocess.Popen([imsmeter, "collect", "--source", "tcp:127.0.0.1:%d" % port,
                                 "--db", db, "--clock-scale", "1000", "--log-level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        frames = [[frame(m + 1, 1000 + c) for m in range(meters)] for c in range(cycles)]
        for c in range(cycles):
            start = time.time()
            for m in range(meters):
                conn.sendall(frames[c][m])
                # 1,000 frames spread over the cycle (300 s at --clock-scale 1000), each
                # alone on the line (0.2 ms real = 200 ms of bus time between frames).
                time.sleep(0.0002)
            time.sleep(max(0.0, 0.3 - (time.time() - start)))
        time.sleep(1.5)
        hwm = vm_hwm_kb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        conn.close()
        srv.close()
        import sqlite3
        n = sqlite3.connect(db).execute("SELECT count(*) FROM readings").fetchone()[0]
        print("collector.py: %d readings stored from %d meters" % (n, meters), file=sys.stderr)
        return hwm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("imsmeter")
    quick = os.environ.get("IMSM_BENCH_QUICK") == "1"  # scripts/bench --quick
    ap.add_argument("--readings", type=int, default=int(os.environ.get(
        "IMSM_BENCH_READINGS", "1000000" if quick else "10000000")))
    ap.add_argument("--bill", default="200x7" if quick else "1000x30",
                    help="the bill's database, METERSxDAYS (10000x30: the issue's 86.4 M readings)")
    ap.add_argument("--skip-figures", action="store_true")
    a = ap.parse_args()
    if not a.skip_figures:
        figures(a.readings, a.bill)
    hwm = rss_live(a.imsmeter)
    print("BENCH collector_rss live_1000_meters %.1f MB" % (hwm / 1024.0))


if __name__ == "__main__":
    main()
