#!/usr/bin/env python3
"""Start-up of two imsmeter binaries, paired in one run (docs/performance.md "Start-up"):
`imsmeter --version` and `imsmeter readings` of one meter's month, as bench/readings_latency.py
times them (fork to exit, the child's user + sys CPU from wait4, medians), each sample running
A then B then B then A so drifting load hits both alike.

  bench/startup_ab.py A B [--db DB] [--meters 100] [--days 30] [--samples 200]
  (without --db: B simulates --meters meters for --days days and collects them into a
  temporary database)

Prints "BENCH startup <command>_<a|b> <value> ms" lines and the B/A ratios."""
import argparse
import datetime
import os
import random
import shutil
import sqlite3
import statistics
import tempfile

from proc_timing import T0, build_db, timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--db")
    ap.add_argument("--meters", type=int, default=100)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--samples", type=int, default=200)
    o = ap.parse_args()
    work = None
    db = o.db
    if not db:
        work = tempfile.mkdtemp(prefix="imsm_startup_")
        db = build_db(o.b, work, o.meters, o.days)
    frm = T0.strftime("%Y-%m-%dT%H:%M:%SZ")
    to = (T0 + datetime.timedelta(days=o.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    meters = [m for (m,) in con.execute("SELECT DISTINCT meter_id FROM readings")]
    con.close()
    random.seed(1)
    load0 = os.getloadavg()[0]

    def commands(binary, m):
        return {
            "version": [binary, "--version"],
            "readings": [binary, "readings", "--db", db, "--meter", str(m), "--from", frm, "--to",
                         to, "--format", "csv"],
        }

    res = {}
    for _ in range(o.samples):
        m = random.choice(meters)
        for side in ("a", "b", "b", "a"):
            for name, cmd in commands(getattr(o, side), m).items():
                wall, cpu = timed(cmd, "startup_ab")
                res.setdefault((name, side), ([], []))
                res[(name, side)][0].append(wall)
                res[(name, side)][1].append(cpu)
    for name in ("version", "readings"):
        med = {}
        for side in ("a", "b"):
            wall, cpu = res[(name, side)]
            med[side] = (statistics.median(wall), statistics.median(cpu))
            print("BENCH startup %s_%s wall %.2f ms cpu %.2f ms" % (name, side, *med[side]))
        print("BENCH startup %s b/a wall %.2f cpu %.2f" %
              (name, med["b"][0] / med["a"][0], med["b"][1] / med["a"][1]))
    print("# medians of %d runs each (%d meters, %d days); load average %.1f at start, %.1f at end"
          % (2 * o.samples, len(meters), o.days, load0, os.getloadavg()[0]))
    if work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
