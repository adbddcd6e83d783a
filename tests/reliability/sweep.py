#!/usr/bin/env python3
"""Reliability of the collector against the simulator's ground truth (docs/reliability.md).

One cell: a simulated bus of N meters (mixed models and loads, key presses, outages) for D
days at a bit error rate, collected from its file capture with timing (`PATH.times`), with or
without every meter registered; each stored reading is compared with the truth file by the
SPEC definitions ("Validation beyond structure": intact, false accept, recovered).

  sweep.py IMSMETER --meters 32,128 --ber 0,1e-4 --days 30 [--registry both|yes|no]
           [--seed N] [--workdir DIR] [--json OUT] [--markdown]

Python standard library only. The definitions, exactly as measured here:
- intact: a truth line with "intact": true (the 12 bytes arrived as the meter sent them).
- recovered: an intact frame for which a reading of that meter ID with the same bytes 2-12
  was stored within one byte time (1,042 us) of the frame's start.
- false accept: a stored reading whose bytes 2-12 differ from every frame its meter ID sent
  within 2 s of it. Classified by field against the meter's nearest frame within 2 s: "id"
  when the meter sent nothing within 2 s (a phantom ID or bytes of another meter), else
  every field that differs of resets (byte 6), peak (bytes 4-5) and kWh (bytes 9-11). A kWh
  false accept is "outside the envelope" when its kWh is outside [kWh of the meter's true frame
  just before, kWh of the one just after]. A peak false accept is "between its true neighbours"
  when those two frames have its counter and it lies within [their peaks] (reported, still a
  false peak).
- phantom ID: a meter ID in the store's `meters` with a reading that no simulated meter has.
- false event (not retracted): `replaced` (the simulator never replaces a meter), `rollover`
  of a meter whose true register never wrapped, `demand_reset` whose counter is not the
  meter's true counter within 2 s of it, and `discovered` of a phantom ID.
"""
import argparse
import bisect
import collections
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

T0_ISO = "2026-11-01T00:00:00Z"
T0_US = 1793491200 * 1_000_000
BYTE_US = 1042  # 10 bits at 9600 baud, rounded up to the microsecond
NEAR_US = 2_000_000
ENV = dict(os.environ, TZ="America/New_York")

# Mixed models: with and without demand, 1000 and 2000 series, old and new numbers.
MODELS = [
    ("S1-120-N-01-01-011-01", 100, 1),
    ("S2-480-N-01-01-041-01", 400, 3),
    ("S1-277-N-01-01-021-01", 200, 1),
    ("S2-208-N-04-02-021-01", 200, 3),
    ("S1-240-N-01-01-022-00", 200, 2),
    ("BL3-240-200-PKG-SP", 200, 2),
]
LOADS = ["constant", "residential", "office", "retail"]


def fleet_toml(n, days, ber, seed):
    """A fleet of n meters with distinct random IDs; returns (toml text, [(id, model)])."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, 65536), n)
    lines = ["seed = %d" % seed, "[[bus]]", 'name = "main"', "bit_error_rate = %g" % ber,
             "garbage_per_hour = 1", ""]
    meters = []
    horizon_s = int(days * 86400)
    for mid in ids:
        model, ct_a, elements = MODELS[rng.randrange(len(MODELS))]
        meters.append((mid, model))
        cur = ", ".join("%.1f" % (ct_a * rng.uniform(0.1, 0.8)) for _ in range(elements))
        lines += ["[[meter]]", "id = %d" % mid, 'model = "%s"' % model, "[meter.load]",
                  'kind = "%s"' % LOADS[rng.randrange(len(LOADS))], "current_a = [%s]" % cur,
                  "pf = %.3f" % rng.uniform(0.85, 1.0)]
        if rng.random() < 0.25:  # a few key presses over the run (guide 3.8)
            for at in sorted(rng.sample(range(600, max(601, horizon_s - 600)), 3)):
                lines += ["[[meter.key_press]]", "at_s = %d" % at, "hold_s = 0.5"]
        if rng.random() < 0.05:  # an outage of 10 minutes to 3 hours
            start = rng.randrange(600, max(601, horizon_s - 12000))
            lines += ["[[meter.outage]]", "from_s = %d" % start,
                      "to_s = %d" % (start + rng.randrange(600, 10800))]
        lines.append("")
    return "\n".join(lines), meters


def registry_toml(meters):
    out = ['[[tariff]]', 'name = "default"', 'energy_per_kwh = "0.12"', ""]
    for mid, model in meters:
        out += ["[[meter]]", "id = %d" % mid, 'model = "%s"' % model, ""]
    return "\n".join(out)


def run(cmd, timeout=7200):
    p = subprocess.run(cmd, capture_output=True, env=ENV, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                p.stderr.decode()[-2000:]))
    return p


def load_truth(path):
    """Per meter: sorted times (us since the epoch), raw bytes 2-12 (hex), intact flags."""
    per = collections.defaultdict(lambda: ([], [], []))
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            ts, raws, ok = per[t["meter_id"]]
            ts.append(T0_US + round(t["t_s"] * 1e6))
            raws.append(t["raw"][2:])
            ok.append(bool(t["intact"]))
    return per  # the truth is in bus-time order, so each list is sorted


def load_store(db):
    con = sqlite3.connect(db)
    try:
        readings = con.execute(
            "SELECT r.meter_id, r.received_at_us, lower(hex(f.raw)), r.frame_id FROM readings r "
            "JOIN frames f ON f.id = r.frame_id").fetchall()
        events = con.execute("SELECT kind, meter_id, at_us, detail FROM events "
                             "WHERE retracted = 0").fetchall()
        retracted = con.execute("SELECT count(*) FROM events WHERE kind = 'retracted'").fetchone()[0]
        misses = con.execute(
            "SELECT f.received_at_us, lower(hex(f.raw)), coalesce(j.reason, "
            "CASE WHEN p.frame_id IS NOT NULL THEN 'pending' END) FROM frames f "
            "LEFT JOIN rejected j ON j.frame_id = f.id LEFT JOIN pending p ON p.frame_id = f.id "
            "WHERE j.frame_id IS NOT NULL OR p.frame_id IS NOT NULL").fetchall()
    finally:
        con.close()
    return readings, events, retracted, misses


def kwh(raw22):  # bytes 2-12 as hex: bytes 9-11 are hex chars [14, 20)
    return int(raw22[14:20], 16)


def field_diffs(a, b):
    """Fields of bytes 2-12 (hex) that differ: peak (4-5), resets (6), kwh (9-11)."""
    out = []
    if a[4:8] != b[4:8]:
        out.append("peak")
    if a[8:10] != b[8:10]:
        out.append("resets")
    if a[14:20] != b[14:20]:
        out.append("kwh")
    return out


def peak_between(raw22, raws, idx):
    """A false peak between the peaks of the meter's true frames just before and just after
    the ones sent within 2 s, all with its counter (a risen peak read as the one before it, or a
    set bit below the next true peak): no rule on the register can tell it from the truth."""
    if idx.start == 0 or idx.stop >= len(raws):
        return False
    lo, hi = raws[idx.start - 1], raws[idx.stop]
    if not lo[8:10] == hi[8:10] == raw22[8:10]:
        return False
    return int(lo[4:8], 16) <= int(raw22[4:8], 16) <= int(hi[4:8], 16)


def near(ts, t, span):
    lo = bisect.bisect_left(ts, t - span)
    hi = bisect.bisect_right(ts, t + span)
    return range(lo, hi)


def judge(truth, readings, events, retracted, misses):
    """The cell's figures by the definitions in the module docstring."""
    r = collections.Counter()
    stored = collections.defaultdict(list)  # (meter, raw 2-12) -> times
    for mid, at, raw, _ in readings:
        stored[(mid, raw[2:])].append(at)
        tr = truth.get(mid)
        if tr is None:
            r["false_accepts"] += 1
            r["false_id"] += 1
            r["phantom_readings"] += 1
            continue
        ts, raws, _ = tr
        idx = near(ts, at, NEAR_US)
        if any(raws[i] == raw[2:] for i in idx):
            continue
        r["false_accepts"] += 1
        if len(idx) == 0:
            r["false_id"] += 1
            continue
        best = min(idx, key=lambda i: abs(ts[i] - at))
        diffs = field_diffs(raw[2:], raws[best])
        for d in diffs:
            r["false_" + d] += 1
        if "peak" in diffs and peak_between(raw[2:], raws, idx):
            r["false_peak_inside"] += 1
        if "kwh" in diffs:  # the true frames before and after the ones sent within 2 s
            lo = kwh(raws[idx.start - 1]) if idx.start > 0 else 0
            hi = kwh(raws[idx.stop]) if idx.stop < len(ts) else 1 << 24
            if not lo <= kwh(raw[2:]) <= hi:
                r["false_kwh_outside"] += 1
    # Recovered intact frames, and why the others were missed.
    miss_reason = {(at, raw[2:]): reason for at, raw, reason in misses}
    reasons = collections.Counter()
    for mid, (ts, raws, ok) in truth.items():
        for t, raw, intact in zip(ts, raws, ok):
            if not intact:
                continue
            r["intact"] += 1
            got = stored.get((mid, raw), ())
            if any(abs(g - t) <= BYTE_US for g in got):
                r["recovered"] += 1
            else:
                reasons[miss_reason.get((t, raw), "not_framed")] += 1
    phantoms = {mid for mid, *_ in readings if mid not in truth}
    r["phantom_ids"] = len(phantoms)
    wrapped = {mid for mid, (ts, raws, _) in truth.items()
               if any(kwh(b) < kwh(a) for a, b in zip(raws, raws[1:]))}
    for kind, mid, at, detail in events:
        if kind == "replaced":
            r["false_replaced"] += 1
        elif kind == "rollover" and mid not in wrapped:
            r["false_rollover"] += 1
        elif kind == "discovered" and mid in phantoms:
            r["false_discovered"] += 1
        elif kind == "demand_reset":
            counter = json.loads(detail).get("counter")
            tr = truth.get(mid)
            ok = tr is not None and any(int(tr[1][i][8:10], 16) == counter
                                        for i in near(tr[0], at, NEAR_US))
            if not ok:
                r["false_demand_reset"] += 1
        elif kind == "silent" and mid in phantoms:
            r["phantom_silent"] += 1
    r["false_events"] = (r["false_replaced"] + r["false_rollover"] + r["false_discovered"] +
                         r["false_demand_reset"])
    r["retracted_events"] = retracted
    r["readings"] = len(readings)
    out = dict(r)
    out["miss_reasons"] = dict(reasons.most_common())
    out["recovered_pct"] = 100.0 * r["recovered"] / r["intact"] if r["intact"] else 100.0
    return out


def run_cell(binary, meters, days, ber, registry, seed, workdir):
    """Simulates, collects and judges one cell; returns its figures (and timings)."""
    d = tempfile.mkdtemp(prefix="cell-", dir=workdir)
    try:
        text, fleet = fleet_toml(meters, days, ber, seed)
        with open(os.path.join(d, "fleet.toml"), "w") as f:
            f.write(text)
        cap, tpath, db = (os.path.join(d, n) for n in ("bus.bin", "truth.jsonl", "cell.db"))
        t0 = time.monotonic()
        run([binary, "simulate", "--config", os.path.join(d, "fleet.toml"), "--duration",
             "%dd" % days if days == int(days) else "%gh" % (days * 24), "--out", "file:" + cap,
             "--truth", tpath, "--speed", "max", "--no-progress"])
        t1 = time.monotonic()
        cmd = [binary, "collect", "--source", "file:" + cap, "--db", db, "--replay-start",
               T0_ISO, "--no-fsync"]
        if registry:  # an empty configuration file is an error: none is given instead
            cfg = os.path.join(d, "imsmeter.toml")
            with open(cfg, "w") as f:
                f.write(registry_toml(fleet))
            cmd += ["--config", cfg]
        run(cmd)
        t2 = time.monotonic()
        figures = judge(load_truth(tpath), *load_store(db))
        t3 = time.monotonic()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    figures.update(meters=meters, days=days, ber=ber, registry=registry, seed=seed,
                   simulate_s=round(t1 - t0, 1), collect_s=round(t2 - t1, 1),
                   judge_s=round(t3 - t2, 1))
    return figures


def goal_failures(c):
    """The issue's goal for one cell: what it misses (an empty list: met)."""
    bad = []
    for k in ("false_id", "false_resets", "false_peak", "false_kwh_outside", "phantom_ids",
              "false_events"):
        if c.get(k, 0):
            bad.append("%s = %d" % (k, c[k]))
            if k == "false_peak":
                bad[-1] += " (%d between its true neighbours)" % c.get("false_peak_inside", 0)
    inside = c.get("false_kwh", 0) - c.get("false_kwh_outside", 0)
    if inside * 1_000_000 > max(1, c["intact"]):
        bad.append("kWh inside the envelope %d per %d frames" % (inside, c["intact"]))
    if c["recovered"] != c["intact"]:
        bad.append("recovered %d of %d intact" % (c["recovered"], c["intact"]))
    return bad


HEADER = ("| meters | BER | registry | days | intact | recovered | false accepts | id | resets | "
          "peak | kWh (outside envelope) | phantom IDs | false events | retractions | misses by "
          "reason | simulate + collect s |\n|" + "---|" * 16)


def markdown_row(c):
    misses = ", ".join("%s %d" % kv for kv in list(c["miss_reasons"].items())[:4]) or "-"
    return ("| %d | %g | %s | %g | %d | %.4f%% | %d | %d | %d | %d | %d (%d) | %d | %d | %d | %s "
            "| %.1f + %.1f |" % (
                c["meters"], c["ber"], "yes" if c["registry"] else "no", c["days"], c["intact"],
                c["recovered_pct"], c.get("false_accepts", 0), c.get("false_id", 0),
                c.get("false_resets", 0), c.get("false_peak", 0), c.get("false_kwh", 0),
                c.get("false_kwh_outside", 0), c["phantom_ids"], c["false_events"],
                c["retracted_events"], misses, c["simulate_s"], c["collect_s"]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--meters", default="32,128,256")
    ap.add_argument("--ber", default="0,1e-5,1e-4,1e-3")
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--registry", choices=["both", "yes", "no"], default="both")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None, help="append one JSON line per cell here")
    ap.add_argument("--check-goal", action="store_true", help="exit 1 when a cell misses the goal")
    ap.add_argument("--render", default=None, metavar="JSONL",
                    help="print the table of cells saved with --json, run nothing")
    a = ap.parse_args(argv)
    if a.render:
        print(HEADER)
        with open(a.render) as f:
            for line in f:
                print(markdown_row(json.loads(line)))
        return 0
    regs = {"both": [False, True], "yes": [True], "no": [False]}[a.registry]
    print(HEADER, flush=True)
    failed = False
    for n in (int(x) for x in a.meters.split(",")):
        for ber in (float(x) for x in a.ber.split(",")):
            for reg in regs:
                c = run_cell(a.binary, n, a.days, ber, reg, a.seed + n, a.workdir)
                print(markdown_row(c), flush=True)
                bad = goal_failures(c)
                if bad:
                    failed = True
                    print("  goal missed: " + "; ".join(bad), file=sys.stderr, flush=True)
                if a.json:
                    with open(a.json, "a") as f:
                        f.write(json.dumps(c) + "\n")
    return 1 if failed and a.check_goal else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
