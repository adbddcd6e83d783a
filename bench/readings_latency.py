#!/usr/bin/env python3
"""`imsmeter readings` of one meter's month, process start-up included (issue #9: <= 5 ms,
median of 100 random meters), beside same-run baselines; prints "BENCH <group> <variant>
<value> <unit>" lines for scripts/bench (docs/performance.md "Collector").

  bench/readings_latency.py IMSMETER [--db DB] [--meters 100] [--days 30] [--samples 100]
  (without --db: simulates --meters meters for --days days and collects them into a temporary
  database; under `scripts/bench --quick`: 50 meters x 7 days, 20 samples)

For each sampled meter, in turn (so load changes hit every variant alike):
  imsmeter_readings    imsmeter readings --db DB --meter ID --from T0 --to T0+days --format csv
  baseline_sqlite3     sqlite3 -readonly -csv DB "<the same rows, the same columns>" (schema 10:
                       from readings and sources alone; before, joined to the journal): the same
                       query and text from the sqlite3 shell (the floor for any process that
                       starts, opens the file and prints these rows); its output is checked
                       equal to imsmeter's, line for line, for the first meter
  sqlite3_readings_only  sqlite3 -readonly DB "SELECT <the readings table's columns>" of the
                       same rows: without the journal's raw bytes and source (a join on
                       frames: one more B-tree look-up per reading, each on its own page
                       in a large database), what the query costs
  imsmeter_version     imsmeter --version (start-up alone: loading, static initialisers, the
                       command line's definition)
  true                 /bin/true (fork + exec from this script)
Wall time from fork to exit (stdout to /dev/null) and the child's CPU time (wait4), medians.
Also the same rows (unformatted columns) by SQL inside this process (Python's sqlite3: no
process, no start-up): the query alone, with the journal's source and raw bytes (in_process)
and from the readings table alone (in_process_readings_only: "plain SQL on readings"; and
readings_scan_in_sqlite: the same rows' every column summed inside SQLite, no Python objects).
"""
import argparse
import datetime
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

from proc_timing import T0, build_db, timed  # noqa: E402
US = 1_000_000

# imsmeter's csv columns (src/collector/report/listing.cpp): kW = counts x 20 W, two decimals.
SQL = ("SELECT r.meter_id, strftime('%Y-%m-%dT%H:%M:%S', r.received_at_us / 1000000, "
       "'unixepoch') || printf('.%06dZ', r.received_at_us % 1000000), r.total_kwh, r.kwh24, "
       "r.epoch, r.peak_demand_counts, printf('%d.%02d', r.peak_demand_counts * 2 / 100, "
       "r.peak_demand_counts * 2 % 100), r.demand_resets, s.name, lower(hex(f.raw)) "
       "FROM readings r JOIN frames f ON f.id = r.frame_id JOIN sources s ON s.id = f.source_id "
       "WHERE r.meter_id = {m} AND r.received_at_us >= {lo} AND r.received_at_us < {hi} "
       "ORDER BY r.meter_id, r.received_at_us, r.frame_id")
# Schema 10 keeps the source and the frame's first byte on the reading (docs/collector.md
# "Store"): the same text from the readings table and `sources` alone, the raw bytes from the
# reading's fields.
SQL_V10 = ("SELECT r.meter_id, strftime('%Y-%m-%dT%H:%M:%S', r.received_at_us / 1000000, "
           "'unixepoch') || printf('.%06dZ', r.received_at_us % 1000000), r.total_kwh, r.kwh24, "
           "r.epoch, r.peak_demand_counts, printf('%d.%02d', r.peak_demand_counts * 2 / 100, "
           "r.peak_demand_counts * 2 % 100), r.demand_resets, s.name, "
           "printf('%02x%04x%04x%02x0000%06x0d', r.lead_byte, r.meter_id, r.peak_demand_counts, "
           "r.demand_resets, r.kwh24) "
           "FROM readings r JOIN sources s ON s.id = r.source_id "
           "WHERE r.meter_id = {m} AND r.received_at_us >= {lo} AND r.received_at_us < {hi} "
           "ORDER BY r.meter_id, r.received_at_us, r.frame_id")
SQL_JOIN = ("SELECT r.*, f.source_id, f.raw FROM readings r JOIN frames f ON f.id = r.frame_id "
            "WHERE r.meter_id = {m} AND r.received_at_us >= {lo} AND r.received_at_us < {hi} "
            "ORDER BY r.meter_id, r.received_at_us, r.frame_id")
SQL_READINGS_ONLY = ("SELECT * FROM readings WHERE meter_id = {m} AND received_at_us >= {lo} "
                     "AND received_at_us < {hi}")
# The same rows stepped and every column read inside SQLite, without making a Python object
# per value (8,000 rows x 8 columns): what the query itself costs.
SQL_READINGS_SCAN = ("SELECT count(*), max(received_at_us), sum(frame_id), sum(epoch), "
                     "sum(total_kwh), sum(kwh24), sum(peak_demand_counts), sum(demand_resets) "
                     "FROM readings WHERE meter_id = {m} AND received_at_us >= {lo} "
                     "AND received_at_us < {hi}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("imsmeter")
    quick = bool(os.environ.get("IMSM_BENCH_QUICK"))  # scripts/bench --quick
    ap.add_argument("--db", help="a database written by collect (else one is made)")
    ap.add_argument("--meters", type=int, default=50 if quick else 100)
    ap.add_argument("--days", type=int, default=7 if quick else 30)
    ap.add_argument("--samples", type=int, default=20 if quick else 100)
    a = ap.parse_args()
    sqlite3_cli = shutil.which("sqlite3")
    if not sqlite3_cli:
        sys.exit("readings_latency: needs the sqlite3 shell (Debian package sqlite3)")
    load0 = os.getloadavg()[0]
    work = None
    db = a.db
    if not db:
        work = tempfile.mkdtemp(prefix="imsm_readings_")
        db = build_db(a.imsmeter, work, a.meters, a.days)
    lo = int(T0.timestamp()) * US
    hi = lo + a.days * 86400 * US
    frm = T0.strftime("%Y-%m-%dT%H:%M:%SZ")
    to = (T0 + datetime.timedelta(days=a.days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    global SQL, SQL_JOIN
    if con.execute("PRAGMA user_version").fetchone()[0] >= 10:
        SQL, SQL_JOIN = SQL_V10, SQL_READINGS_ONLY  # a reading holds its source and raw bytes
    meters = [m for (m,) in con.execute("SELECT id FROM meters WHERE EXISTS "
                                        "(SELECT 1 FROM readings r WHERE r.meter_id = meters.id)")]
    random.seed(1)
    sample = [random.choice(meters) for _ in range(a.samples)]

    # The baseline prints what imsmeter prints (less imsmeter's header line).
    with tempfile.TemporaryFile() as ours, tempfile.TemporaryFile() as theirs:
        m = sample[0]
        timed([a.imsmeter, "readings", "--db", db, "--meter", str(m), "--from", frm, "--to", to,
               "--format", "csv"], "readings_latency", out=ours)
        timed([sqlite3_cli, "-readonly", "-csv", db, SQL.format(m=m, lo=lo, hi=hi)],
              "readings_latency", out=theirs)
        ours.seek(0)
        theirs.seek(0)
        mine = ours.read().replace(b"\r\n", b"\n").split(b"\n", 1)[1]
        base = theirs.read().replace(b"\r\n", b"\n")
        if mine != base:
            sys.exit("readings_latency: sqlite3's rows differ from imsmeter's for meter %d" % m)
        rows = mine.count(b"\n")

    res = {k: ([], []) for k in ("imsmeter_readings", "baseline_sqlite3", "sqlite3_readings_only",
                                 "imsmeter_version", "true")}
    sql_ms, plain_ms, scan_ms = [], [], []
    for m in sample:
        runs = {
            "imsmeter_readings": [a.imsmeter, "readings", "--db", db, "--meter", str(m), "--from",
                                  frm, "--to", to, "--format", "csv"],
            "baseline_sqlite3": [sqlite3_cli, "-readonly", "-csv", db,
                                 SQL.format(m=m, lo=lo, hi=hi)],
            "sqlite3_readings_only": [sqlite3_cli, "-readonly", db,
                                      SQL_READINGS_ONLY.format(m=m, lo=lo, hi=hi)],
            "imsmeter_version": [a.imsmeter, "--version"],
            "true": ["true"],
        }
        for k, cmd in runs.items():
            wall, cpu = timed(cmd, "readings_latency")
            res[k][0].append(wall)
            res[k][1].append(cpu)
        start = time.perf_counter()
        con.execute(SQL_JOIN.format(m=m, lo=lo, hi=hi)).fetchall()
        sql_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        con.execute(SQL_READINGS_ONLY.format(m=m, lo=lo, hi=hi)).fetchall()
        plain_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        con.execute(SQL_READINGS_SCAN.format(m=m, lo=lo, hi=hi)).fetchall()
        scan_ms.append((time.perf_counter() - start) * 1000)

    # Values and units alone on the BENCH lines (scripts/bench pairs a variant with its group's
    # baseline by unit); the details on "#" lines.
    n = len(sample)
    for k, (wall, _) in res.items():
        print("BENCH readings_cli %s %.2f ms" % (k, statistics.median(wall)))
    for k, (_, cpu) in res.items():
        print("BENCH readings_cli_cpu %s %.2f ms" % (k, statistics.median(cpu)))
    print("BENCH readings_sql in_process %.2f ms" % statistics.median(sql_ms))
    print("BENCH readings_sql in_process_readings_only %.2f ms" % statistics.median(plain_ms))
    print("BENCH readings_sql readings_scan_in_sqlite %.2f ms" % statistics.median(scan_ms))
    print("# readings_cli: wall time from fork to exit, readings_cli_cpu: the child's user + sys "
          "CPU, medians of %d random meters (%d rows for the first); readings_sql: the same rows "
          "with the journal's source and raw bytes, unformatted, by Python's sqlite3 in the "
          "bench's process" % (n, rows))
    print("# readings_cli: load average %.1f at start, %.1f at end" % (load0, os.getloadavg()[0]))
    if work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
