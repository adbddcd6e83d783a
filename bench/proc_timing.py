"""What bench/readings_latency.py and bench/startup_ab.py share: a child process timed from
fork to exit, and a database written by `imsmeter collect` from a simulated capture."""
import datetime
import os
import subprocess
import sys
import time

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)


def timed(cmd, name, out=subprocess.DEVNULL):
    """Wall ms and CPU ms (user + sys) of cmd, from fork to exit; a failure ends the bench
    `name` with the command's stderr."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s: %s failed: %s" % (name, cmd[:2], err[-500:]))
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def build_db(imsmeter, work, meters, days):
    """`meters` meters simulated for `days` days from T0, collected into work/collect.db."""
    cap = os.path.join(work, "bus.bin")
    db = os.path.join(work, "collect.db")
    subprocess.run([imsmeter, "simulate", "--meters", str(meters), "--model",
                    "S2-480-N-01-01-041-01", "--duration", "%dd" % days, "--seed", "7", "--out",
                    "file:" + cap, "--no-progress", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([imsmeter, "collect", "--source", "file:" + cap, "--db", db, "--replay-start",
                    T0.strftime("%Y-%m-%dT%H:%M:%SZ"), "--no-fsync", "--log-level", "warn"],
                   check=True)
    return db
