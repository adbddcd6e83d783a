"""Restarts change nothing (issue 10): one simulated capture collected once without a stop,
and again into a second database with many kill -9 and SIGTERM at random moments (each run
resumes from the same database; the file source resumes by its capture identity). The
journal, readings, rejections (reason and detail), pending frames and events (other than the
runs' own source_up/source_down) of the two stores must be identical.

The bus: 64 meters x 1 simulated day at a bit error rate of 1e-4 (tests/reliability/sweep.py's
fleet: collisions, key presses, outages, noise), so held, chained and provisional frames are
under way at most moments a kill can land. The uninterrupted run commits as a replay does
(at the end); the stopped ones every 250 frames, so that most runs make some progress.

    python3 tests/reliability/test_restarts.py IMSMETER [--kills N --terms N --meters N --days D]
(the defaults are the CI size; scripts/reliability --restarts runs a larger one for the docs).
Skips, saying why, when this build has no `simulate` command."""
import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402

BINARY = None
SIZE = {"kills": 50, "terms": 10, "meters": 64, "days": 1.0, "ber": 1e-4, "seed": 20261299}


def snapshot(db):
    """Everything a restart must not change, in a comparable form."""
    con = sqlite3.connect(db)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "journal": q("SELECT id, received_at_us, stream_offset, burst, hex(raw) FROM frames "
                         "ORDER BY id"),
            "readings": q("SELECT meter_id, received_at_us, frame_id, epoch, total_kwh, kwh24, "
                          "peak_demand_counts, demand_resets FROM readings "
                          "ORDER BY meter_id, received_at_us, frame_id"),
            "rejections": q("SELECT frame_id, meter_id, reason, detail FROM rejected "
                            "ORDER BY frame_id"),
            "pending": q("SELECT frame_id FROM pending ORDER BY frame_id"),
            "events": q("SELECT at_us, kind, meter_id, detail, retracted FROM events "
                        "WHERE kind NOT IN ('source_up', 'source_down') ORDER BY id"),
            "meters": q("SELECT id, registered, discovered_at_us, epoch, silent FROM meters "
                        "ORDER BY id"),
        }
    finally:
        con.close()


def first_difference(a, b):
    for key in a:
        if a[key] != b[key]:
            x, y = a[key], b[key]
            for i in range(min(len(x), len(y))):
                if x[i] != y[i]:
                    return "%s row %d: uninterrupted %r, with restarts %r" % (key, i, x[i], y[i])
            return "%s: %d rows uninterrupted, %d with restarts" % (key, len(x), len(y))
    return None


def simulate(workdir, size):
    text, _fleet = sweep.fleet_toml(size["meters"], size["days"], size["ber"], size["seed"])
    cfg = os.path.join(workdir, "fleet.toml")
    with open(cfg, "w") as f:
        f.write(text)
    cap = os.path.join(workdir, "bus.bin")
    hours = "%gh" % (size["days"] * 24)
    sweep.run([BINARY, "simulate", "--config", cfg, "--duration", hours, "--out", "file:" + cap,
               "--truth", os.path.join(workdir, "truth.jsonl"), "--speed", "max", "--no-progress"])
    return cap


def collect_cmd(cap, db, batched=False):
    """`batched`: a commit every 10 ms and every 250 frames, so that a kill can land between
    commits anywhere in the capture (a replay otherwise commits every 131,072 frames)."""
    cmd = [BINARY, "collect", "--source", "file:" + cap, "--db", db, "--replay-start",
           sweep.T0_ISO, "--no-fsync"]
    return cmd + ["--commit-interval-ms", "10", "--commit-frames", "250"] if batched else cmd


def journaled(db):
    try:
        con = sqlite3.connect(db)
        try:
            return con.execute("SELECT count(*) FROM frames").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet (killed before its first commit)
        return 0


def stopped_run(cap, db, how, delay_s):
    """One collect run into `db`, stopped by SIGKILL or SIGTERM after `delay_s`; returns the
    journal's size after it."""
    proc = subprocess.Popen(collect_cmd(cap, db, True), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=sweep.ENV)
    # A random moment is the point of the test: a wait, not a synchronisation.
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    if how == "term" and proc.returncode not in (0, -signal.SIGTERM):
        raise AssertionError("collect after SIGTERM: exit %s: %s"
                             % (proc.returncode, err.decode()[-2000:]))
    return journaled(db)


def collect_with_restarts(cap, workdir, size, work_s, start_s, rng):
    """A SIGTERM flushes everything its run had queued, and a file source queues its whole
    capture at once: so the stops come in rounds, one per SIGTERM, each into a new database:
    kill -9s at random moments (the runs share out about twice the uninterrupted run's work,
    so they land all along the capture; now and then in a run's own start-up), then the
    SIGTERM at a random moment, then one run to the end. Returns [(database, journal sizes
    after each stop)]."""
    rounds = []
    terms = max(1, size["terms"])
    for k in range(terms):
        kills = size["kills"] // terms + (1 if k < size["kills"] % terms else 0)
        db = os.path.join(workdir, "restarted-%d.db" % k)
        span = 2.0 * work_s / max(1, kills)
        sizes = [stopped_run(cap, db, "kill", rng.uniform(0.5 * start_s, start_s + span))
                 for _ in range(kills)]
        if size["terms"] > 0:
            sizes.append(stopped_run(cap, db, "term", rng.uniform(0.5 * start_s,
                                                                   start_s + work_s)))
        sweep.run(collect_cmd(cap, db, True))
        rounds.append((db, sizes))
    return rounds


class RestartsChangeNothing(unittest.TestCase):
    def setUp(self):
        p = subprocess.run([BINARY, "simulate", "--help"], capture_output=True)
        if p.returncode != 0:
            self.skipTest("this imsmeter has no 'simulate' command: the test needs the simulator")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_kill_9_and_sigterm_at_random_moments_change_no_decision(self):
        size = SIZE
        cap = simulate(self.tmp.name, size)
        once = os.path.join(self.tmp.name, "once.db")
        t0 = time.monotonic()
        sweep.run(collect_cmd(cap, once))
        t1 = time.monotonic()
        sweep.run(collect_cmd(cap, once))  # consumed already: start-up and exit only
        t2 = time.monotonic()
        start_s, work_s = t2 - t1, max(0.05, (t1 - t0) - (t2 - t1))
        rounds = collect_with_restarts(cap, self.tmp.name, size, work_s, start_s,
                                       random.Random(size["seed"]))
        a = snapshot(once)
        total = len(a["journal"])
        # Stops that left the capture part-way journaled, after some progress.
        mid = 0
        for _db, sizes in rounds:
            mid += sum(1 for i, n in enumerate(sizes)
                       if 0 < n < total and n > (sizes[i - 1] if i else 0))
        stops = sum(len(sizes) for _db, sizes in rounds)
        print("restarts: %d stops in %d rounds, %d of them part-way after progress; %d frames, "
              "%d readings, %d rejected, %d pending, %d events; uninterrupted run %.2f s "
              "(start-up %.2f s)"
              % (stops, len(rounds), mid, total, len(a["readings"]), len(a["rejections"]),
                 len(a["pending"]), len(a["events"]), t1 - t0, start_s), file=sys.stderr)
        # Sanity: the capture holds decisions of every kind, and the stops spread over it.
        self.assertGreater(len(a["readings"]), 5000)
        self.assertGreater(len(a["rejections"]), 10)
        self.assertGreaterEqual(mid, stops // 3, "too few stops landed part-way through")
        # Events in the order raised, except that a sweep moved by a stop may write a
        # `silent` event before or after other decisions: compared as a sorted list.
        a["events"].sort()
        for db, sizes in rounds:
            b = snapshot(db)
            b["events"].sort()
            self.assertIsNone(first_difference(a, b), "%s after stops at %s" % (db, sizes))


def main():
    global BINARY
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    for k in ("kills", "terms", "meters"):
        ap.add_argument("--" + k, type=int, default=SIZE[k])
    ap.add_argument("--days", type=float, default=SIZE["days"])
    ap.add_argument("--ber", type=float, default=SIZE["ber"])
    args, rest = ap.parse_known_args()
    BINARY = args.binary
    SIZE.update(kills=args.kills, terms=args.terms, meters=args.meters, days=args.days,
                ber=args.ber)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
