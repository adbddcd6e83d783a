#!/usr/bin/env python3
"""Frame end on the wire to visible on /api/stream (SSE), p50 and p99, with 1,000 meters.

  bench/sse_latency.py IMSMETER [--meters 1000] [--samples 1000] [--commit-interval-ms 10]
                      [--idle-gap-ms 20]

`imsmeter collect --source tcp:(this script) --http 127.0.0.1:0` with every meter registered;
the script writes one frame at a time (meters round-robin), stamps the moment sendall()
returns (the frame's last byte is on the loopback wire), and stamps again when

  - SSE: the stream's `reading` event for that meter arrives (a client thread), and
  - baseline (same run, same frame): the row is visible in SQLite to a reader polling the
    database every 0.2 ms: the commit itself, with no server in between.

SSE minus baseline is what the HTTP path adds. The next frame goes out once both are seen,
after a random 0-10 ms pause so frames fall on every phase of the commit cadence. Prints
"BENCH sse_latency <variant> <value> ms" lines (scripts/bench) and the load average.
"""
import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cli"))
from collect_support import frame  # noqa: E402
from sse_support import Stream  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--meters", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--commit-interval-ms", default="10")
    ap.add_argument("--idle-gap-ms", default="20", help="the framer's idle gap (collect's default 20)")
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = os.path.join(tmp.name, "b.db")
    cfg = os.path.join(tmp.name, "c.toml")
    with open(cfg, "w") as f:
        for m in range(1, a.meters + 1):
            f.write("[[meter]]\nid = %d\n" % m)
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    col = subprocess.Popen([a.binary, "collect", "--source", "tcp:127.0.0.1:%d" % lst.getsockname()[1],
                            "--db", db, "--config", cfg, "--no-fsync", "--commit-interval-ms",
                            a.commit_interval_ms, "--idle-gap-ms", a.idle_gap_ms, "--http", "127.0.0.1:0", "--log-level", "warn"],
                           stdout=subprocess.PIPE)
    base = col.stdout.readline().decode().split("listening on ")[1].strip()
    bus, _ = lst.accept()
    bus.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    seen = {}  # meter -> monotonic ns of its latest SSE reading
    cv = threading.Condition()
    stream = Stream(base, timeout=60)

    def follow():
        try:
            for _, kind, data in stream.frames(deadline_s=3600):
                if kind == "reading":
                    with cv:
                        seen[data["meter_id"]] = time.monotonic_ns()
                        cv.notify_all()
        except Exception:
            pass

    threading.Thread(target=follow, daemon=True).start()
    reader = sqlite3.connect(db, timeout=10)
    sse, sql = [], []
    rng = random.Random(1)
    for i in range(a.samples):
        m = i % a.meters + 1
        before = reader.execute("SELECT count(*) FROM readings WHERE meter_id = ?", (m,)).fetchone()[0]
        with cv:
            seen.pop(m, None)
        bus.sendall(frame(m, m, peak=5))
        t0 = time.monotonic_ns()
        while reader.execute("SELECT count(*) FROM readings WHERE meter_id = ?",
                             (m,)).fetchone()[0] == before:
            time.sleep(0.0002)
        sql.append((time.monotonic_ns() - t0) / 1e6)
        with cv:
            if not cv.wait_for(lambda: m in seen, timeout=10):
                raise SystemExit("no SSE reading for meter %d" % m)
            sse.append((seen[m] - t0) / 1e6)
        time.sleep(rng.uniform(0, 0.010))
    stream.close()
    col.terminate()
    col.wait(timeout=30)
    load = os.getloadavg()
    for name, xs in (("sse", sse), ("baseline_sqlite_visible", sql)):
        print("BENCH sse_latency %s_p50 %.2f ms" % (name, pct(xs, 50)))
        print("BENCH sse_latency %s_p99 %.2f ms" % (name, pct(xs, 99)))
    print("# %d samples, %d meters, commit interval %s ms, idle gap %s ms, load average "
          "%.2f %.2f %.2f" % (len(sse), a.meters, a.commit_interval_ms, a.idle_gap_ms, *load))


if __name__ == "__main__":
    main()
