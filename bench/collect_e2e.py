#!/usr/bin/env python3
"""End-to-end collector figures on data `imsmeter collect` writes itself (docs/performance.md
"Collector, end to end"), printed as "BENCH <group> <variant> <value> <unit>" lines.

  bench/collect_e2e.py IMSMETER [--meters 1000] [--days 30] [--runs 3] [--work DIR]
  (under `scripts/bench --quick`: 200 meters x 2 days, one run)

1. `imsmeter simulate` writes one bus of N meters for D days as a file capture with its
   `.times` sidecar (the input a user replays).
2. Paired runs, alternating: `imsmeter collect` of that capture into a fresh database
   (validation on, durable: WAL, synchronous=FULL), and the baseline: a straightforward
   Python collector (below) reading the same file, framing it and inserting one row per
   frame with executemany into SQLite (WAL, synchronous=FULL, one commit per 100,000 rows).
   Wall time and peak RSS (wait4) of each; the ratio of medians.
3. On the database `collect` wrote: bytes per reading (the file over its readings) beside
   the baseline's one-row-per-frame table; one meter's whole period by plain SQL (median of
   100 random meters, from Python's sqlite3) and by `imsmeter readings`; the bill
   (`imsmeter report --energy-only`); start-up: `collect` on that database of a one-frame
   capture (wall time to exit: opening, loading the meters' state, the frame, the commit).
"""
import argparse
import datetime
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

T0 = "2026-11-01T00:00:00Z"


def iso_after(days):
    t = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(cmd, **kw):
    """Runs cmd, returns (seconds, peak RSS in kB)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.monotonic() - start
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("collect_e2e: %s failed (%d): %s" % (cmd[:3], p.returncode, err[-2000:]))
    return seconds, usage.ru_maxrss


# --- The baseline: what a user would write in an afternoon --------------------------------
BASELINE = r'''
import sqlite3, sys
path, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=FULL")
con.execute("CREATE TABLE readings(id INTEGER PRIMARY KEY, offset INTEGER, meter_id INTEGER,"
            " peak INTEGER, resets INTEGER, kwh INTEGER)")
data = open(path, "rb").read()
rows, i, n = [], 0, len(data)
while i + 12 <= n:
    w = data[i:i + 12]
    if w[11] == 0x0D and w[6] == 0 and w[7] == 0:   # the frame's structure (guide Table 4)
        rows.append((i, (w[1] << 8) | w[2], (w[3] << 8) | w[4], w[5],
                     (w[8] << 16) | (w[9] << 8) | w[10]))
        i += 12
        if len(rows) >= 100000:
            con.executemany("INSERT INTO readings(offset, meter_id, peak, resets, kwh)"
                            " VALUES (?,?,?,?,?)", rows)
            con.commit()
            rows.clear()
    else:
        i += 1
con.executemany("INSERT INTO readings(offset, meter_id, peak, resets, kwh) VALUES (?,?,?,?,?)",
                rows)
con.commit()
'''


def simulate(imsmeter, work, meters, days):
    cap = os.path.join(work, "bus.bin")
    if not os.path.exists(cap + ".times"):
        t, _ = run([imsmeter, "simulate", "--meters", str(meters), "--model",
                    "S2-480-N-01-01-041-01", "--duration", "%dd" % days, "--seed", "7",
                    "--out", "file:" + cap, "--no-progress"])
        print("BENCH e2e simulate_s %.1f s" % t)
    return cap


def collect(imsmeter, cap, db, extra=()):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    return run([imsmeter, "collect", "--source", "file:" + cap, "--db", db, "--replay-start", T0,
                "--log-level", "warn", *extra])


def paired(imsmeter, work, cap, runs):
    base_py = os.path.join(work, "baseline.py")
    with open(base_py, "w") as f:
        f.write(BASELINE)
    ours, base = [], []
    db = os.path.join(work, "collect.db")
    for _ in range(runs):
        ours.append(collect(imsmeter, cap, db))
        bdb = os.path.join(work, "baseline.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(bdb + suffix):
                os.remove(bdb + suffix)
        base.append(run([sys.executable, base_py, cap, bdb]))
    t_ours = statistics.median(t for t, _ in ours)
    t_base = statistics.median(t for t, _ in base)
    print("BENCH e2e collect_s %.2f s (runs: %s)" % (t_ours, ", ".join("%.2f" % t for t, _ in ours)))
    print("BENCH e2e baseline_python_s %.2f s (runs: %s)" %
          (t_base, ", ".join("%.2f" % t for t, _ in base)))
    print("BENCH e2e speedup %.2f x" % (t_base / t_ours))
    print("BENCH e2e collect_peak_rss %.1f MB" % (max(r for _, r in ours) / 1024))
    print("BENCH e2e baseline_peak_rss %.1f MB" % (max(r for _, r in base) / 1024))
    return db, os.path.join(work, "baseline.db")


def on_database(imsmeter, work, db, bdb, days):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    readings = con.execute("SELECT count(*) FROM readings").fetchone()[0]
    frames = os.path.getsize(os.path.join(work, "bus.bin")) // 12
    print("BENCH e2e readings %d count (of about %d frames sent)" % (readings, frames))
    bcon = sqlite3.connect(bdb)
    brows = bcon.execute("SELECT count(*) FROM readings").fetchone()[0]
    print("BENCH bytes per_reading %.1f B" % (os.path.getsize(db) / readings))
    print("BENCH bytes baseline_plain_table %.1f B" % (os.path.getsize(bdb) / brows))

    meters = [m for (m,) in con.execute("SELECT DISTINCT meter_id FROM readings")]
    random.seed(1)
    sample = [random.choice(meters) for _ in range(100)]
    lo, hi = 1793491200000000, 1793491200000000 + days * 86400 * 1000000
    sql_ms = []
    for m in sample:
        start = time.perf_counter()
        rows = con.execute("SELECT * FROM readings WHERE meter_id = ? AND received_at_us >= ? "
                           "AND received_at_us < ?", (m, lo, hi)).fetchall()
        sql_ms.append((time.perf_counter() - start) * 1000)
    print("BENCH month_of_one_meter sql %.2f ms (median of 100 meters, %d rows)" %
          (statistics.median(sql_ms), len(rows)))
    cli_ms = []
    for m in sample[:20]:
        t, _ = run([imsmeter, "readings", "--db", db, "--meter", str(m), "--format", "csv"])
        cli_ms.append(t * 1000)
    true_ms = statistics.median(run(["true"])[0] * 1000 for _ in range(5))
    print("BENCH month_of_one_meter imsmeter_readings %.1f ms (median of 20, process included;"
          " `true` takes %.1f ms)" % (statistics.median(cli_ms), true_ms))
    t, _ = run([imsmeter, "report", "--db", db, "--energy-only", "--from", T0, "--to",
                iso_after(days), "--format", "csv"])
    print("BENCH bill energy_only_s %.2f s (%d meters x %d days)" % (t, len(meters), days))

    # Start-up: one more frame (meter 1's, after the capture) into the big database.
    one = os.path.join(work, "one.bin")
    with open(one, "wb") as f:
        f.write(bytes([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x0D]))
    t, _ = run([imsmeter, "collect", "--source", "file:" + one, "--db", db, "--replay-start",
                iso_after(days + 1), "--log-level", "warn"])
    print("BENCH startup collect_one_frame_s %.2f s (on %d readings)" % (t, readings))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("imsmeter")
    quick = bool(os.environ.get("IMSM_BENCH_QUICK"))  # scripts/bench --quick
    ap.add_argument("--meters", type=int, default=200 if quick else 1000)
    ap.add_argument("--days", type=int, default=2 if quick else 30)
    ap.add_argument("--runs", type=int, default=1 if quick else 3)
    ap.add_argument("--work", help="keep the capture and databases here (reused)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="imsm_e2e_")
    os.makedirs(work, exist_ok=True)
    print("BENCH e2e load_average %.1f (1 min, at start)" % os.getloadavg()[0])
    cap = simulate(a.imsmeter, work, a.meters, a.days)
    db, bdb = paired(a.imsmeter, work, cap, a.runs)
    on_database(a.imsmeter, work, db, bdb, a.days)
    print("BENCH e2e load_average %.1f (1 min, at end)" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
