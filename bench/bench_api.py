#!/usr/bin/env python3
"""API figures (docs/performance.md "API"), printed as "BENCH <group> <variant> <value> <unit>"
lines, each beside its same-run baseline: the same rows asked of the same file by the plain
SQL query through the sqlite3 shell.

  bench/bench_api.py IMSMETER [--meters 10000] [--days 1] [--duration 10] [--db PATH]
                    [--only meters,meter,month,metrics]

1. bench_api_db (from $IMSM_BUILD/bench) builds the database through the Store interface:
   METERS meters reading every 5 minutes for the last DAYS days of November 2026, meter 1
   for the whole month (8,640 readings). --db PATH keeps it (and reuses it when present).
2. `imsmeter serve --db DB --listen 127.0.0.1:0` (read-only, 4 worker threads) and wrk
   (Debian `wrk`) for DURATION seconds on each path (/api/meters, /api/meters/1, meter 1's
   month of readings, /metrics), with 1 connection and with 4.
3. The baseline: the query giving the same rows, repeated in one sqlite3 shell
   (`.output /dev/null`, csv mode), queries per second of wall time; one connection.
The load average is printed beside the figures (5 engineers share 2 cores)."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MONTH_FROM, MONTH_TO = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"
MONTH_FROM_US, MONTH_TO_US = 1793491200000000, 1796083200000000

# /api/meters: every meter with its last reading and counts (what meter_summaries() reads).
METERS_SQL = """
SELECT m.id, m.registered, m.model, m.label, m.tenant, m.location, m.tariff,
       m.discovered_at_us, m.epoch, r.received_at_us, r.total_kwh, r.peak_demand_counts,
       r.demand_resets, c.n, j.n
FROM meters m
LEFT JOIN (SELECT meter_id, sum(n) AS n FROM rollups_hourly GROUP BY meter_id) c
  ON c.meter_id = m.id
LEFT JOIN (SELECT meter_id, count(*) AS n FROM rejected GROUP BY meter_id) j ON j.meter_id = m.id
LEFT JOIN readings r ON r.meter_id = m.id AND r.received_at_us =
  (SELECT max(received_at_us) FROM readings WHERE meter_id = m.id)
ORDER BY m.id;"""
# /api/meters/1: one meter's row, counts and last reading (keyed queries, meter_summary()).
METER_SQL = """
SELECT m.id, m.registered, m.model, m.label, m.tenant, m.location, m.tariff,
       m.discovered_at_us, m.epoch, r.received_at_us, r.total_kwh, r.peak_demand_counts,
       r.demand_resets,
       (SELECT coalesce(sum(n), 0) FROM rollups_hourly WHERE meter_id = 1),
       (SELECT count(*) FROM rejected WHERE meter_id = 1)
FROM meters m
LEFT JOIN readings r ON r.meter_id = m.id AND r.received_at_us =
  (SELECT max(received_at_us) FROM readings WHERE meter_id = m.id)
WHERE m.id = 1;"""
# /api/meters/1/readings?from&to&limit=10000: the month's rows with source and raw bytes.
MONTH_SQL = """
SELECT r.meter_id, r.received_at_us, r.total_kwh, r.kwh24, r.epoch, r.peak_demand_counts,
       r.demand_resets, s.name, hex(f.raw)
FROM readings r JOIN frames f ON f.id = r.frame_id JOIN sources s ON s.id = f.source_id
WHERE r.meter_id = 1 AND r.received_at_us >= %d AND r.received_at_us < %d
ORDER BY r.received_at_us, r.frame_id LIMIT 10001;""" % (MONTH_FROM_US, MONTH_TO_US)


def build_db(path, meters, days):
    build = os.environ.get("IMSM_BUILD", os.path.join(HERE, "..", "build"))
    exe = os.path.join(build, "bench", "bench_api_db")
    p = subprocess.run([exe, path, str(meters), str(days), "1"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bench_api.py: %s failed: %s" % (exe, p.stderr))
    print(p.stdout.strip(), file=sys.stderr)


def wrk(url, connections, duration):
    p = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections),
                        "-d", "%ds" % duration, "--latency", url],
                       capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    if p.returncode != 0 or not m:
        sys.exit("bench_api.py: wrk failed: %s %s" % (p.stdout, p.stderr))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    if errors:
        sys.exit("bench_api.py: %s: %s error responses" % (url, errors.group(1)))
    return float(m.group(1))


def sqlite3_qps(db, sql, duration):
    """Repeats `sql` in one sqlite3 shell until about `duration` seconds have passed."""
    reps = 1
    while True:
        script = ".mode csv\n.output /dev/null\n" + sql * reps + "\n"
        start = time.monotonic()
        subprocess.run(["sqlite3", "-readonly", db], input=script, text=True, check=True)
        elapsed = time.monotonic() - start
        if elapsed >= duration / 4 or reps >= 1 << 20:
            return reps / elapsed
        reps *= 4 if elapsed < duration / 40 else 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("imsmeter")
    ap.add_argument("--meters", type=int, default=10000)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--db")
    ap.add_argument("--only", help="comma-separated groups: meters,meter,month,metrics")
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = a.db or os.path.join(tmp.name, "api.db")
    if not os.path.exists(db):
        build_db(db, a.meters, a.days)
    srv = subprocess.Popen([a.imsmeter, "serve", "--db", db, "--listen", "127.0.0.1:0"],
                           stdout=subprocess.PIPE, text=True)
    line = srv.stdout.readline()  # the handshake: printed once it accepts
    base = line.rsplit(" ", 1)[1].strip()
    # path, and the plain query giving the same rows (None: /metrics has no single query).
    paths = {"meters": ("/api/meters", METERS_SQL),
             "meter": ("/api/meters/1", METER_SQL),
             "month": ("/api/meters/1/readings?from=%s&to=%s&limit=10000" % (MONTH_FROM, MONTH_TO),
                       MONTH_SQL),
             "metrics": ("/metrics", None)}
    try:
        for group, (path, sql) in paths.items():
            if a.only and group not in a.only.split(","):
                continue
            for c in (1, 4):
                rps = wrk(base + path, c, a.duration)
                print("BENCH api_%s serve_c%d %.1f requests/s" % (group, c, rps), flush=True)
            if sql:
                qps = sqlite3_qps(db, sql, a.duration)
                print("BENCH api_%s baseline_sqlite3 %.1f queries/s" % (group, qps), flush=True)
            print("BENCH load average %.2f %.2f %.2f" % os.getloadavg())
    finally:
        srv.terminate()
        srv.wait()
        tmp.cleanup()


if __name__ == "__main__":
    main()
