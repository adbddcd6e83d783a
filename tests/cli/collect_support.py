"""Helpers for the collector's process-level tests: synthesized captures with timing sidecars
(SPEC "Captures with timing"), running imsmeter with a non-UTC TZ, reading the database."""
import json
import os
import sqlite3
import subprocess

# 2026-11-01T00:00:00Z
T0_ISO = "2026-11-01T00:00:00Z"
T0_S = 1793491200

ENV = dict(os.environ, TZ="America/New_York")  # output must never depend on local time


def frame(meter_id, kwh, peak=0, resets=0, lead=0):
    k = kwh & 0xFFFFFF
    return bytes([lead, meter_id >> 8, meter_id & 0xFF, peak >> 8, peak & 0xFF, resets & 0xFF,
                  0, 0, k >> 16, (k >> 8) & 0xFF, k & 0xFF, 0x0D])


def write_capture(path, bursts):
    """bursts: list of (t_seconds, bytes). Writes PATH and PATH.times."""
    bursts = sorted(bursts, key=lambda b: b[0])
    offset = 0
    with open(path, "wb") as data, open(path + ".times", "w") as times:
        for t, b in bursts:
            data.write(b)
            times.write("%d %.6f\n" % (offset, t))
            offset += len(b)


def run(binary, *args, timeout=60, stdin=None):
    return subprocess.run([binary, *args], capture_output=True, timeout=timeout, env=ENV,
                          input=stdin)


def jsonl(stdout):
    return [json.loads(l) for l in stdout.decode().splitlines() if l.strip()]


def query(db, sql, *params):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def iso(t_s):
    """UTC ISO 8601 with six fractional digits, as the collector prints it."""
    import datetime
    us = round(t_s * 1_000_000)
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
