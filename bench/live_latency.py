#!/usr/bin/env python3
"""Frame end on the wire to visible on the API, on SSE and on MQTT, p50 and p99, with 1,000
meters (issue #12; target p99 <= 20 ms).

  bench/live_latency.py IMSMETER [--meters 1000] [--samples 1000] [--commit-interval-ms 10]
                       [--idle-gap-ms 20] [--no-api]

Starts a mosquitto on 127.0.0.1 (a free port, a temporary 3-line config, as
tests/unit/collector/mosquitto_broker.h does) and `imsmeter collect --source tcp:(this script)
--http 127.0.0.1:0 --sink mqtt://127.0.0.1:PORT?gateway=bench` with every meter registered.
A warm-up frame for every meter comes first (not measured): a meter's first reading also
publishes its Home Assistant discovery, which a running gateway did long ago. Then the script
writes one frame at a time (meters round-robin), stamps the moment sendall() returns (the
frame's last byte is on the loopback wire), and stamps again when

  - sse: the stream's `reading` event for that meter arrives (a client thread);
  - mqtt: the PUBLISH on `imsmeter/bench/<meter>/state` arrives (a minimal MQTT 3.1.1
    subscriber thread, QoS 1; no MQTT library is needed);
  - api: GET /api/meters/<meter> shows the new reading (`readings` counts it; a thread
    polling on one keep-alive connection with a 1 ms pause: the figure includes up to one
    pause and one request);
  - baseline (same run, same frame): the row is visible in SQLite to a reader polling the
    database every 0.2 ms: the commit itself, with no server in between.

The next frame goes out once all are seen, after a random 0-10 ms pause so frames fall on
every phase of the commit cadence. Prints "BENCH live_latency <variant> <value> ms" lines
(scripts/bench --only latency) and the load average.
"""
import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cli"))
from collect_support import frame  # noqa: E402
from sse_support import Stream  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_mosquitto(tmp):
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    log = open(os.path.join(tmp, "mosquitto.log"), "w")
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while True:  # ready once the port accepts (a handshake, not a fixed sleep)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("mosquitto did not start (see %s)" % log.name)
            time.sleep(0.01)


class MqttSubscriber:
    """MQTT 3.1.1, just enough: CONNECT (clean session, no keep-alive), SUBSCRIBE at QoS 1,
    PUBLISH in (PUBACK for QoS 1). Calls on_message(topic, payload) from its thread."""

    def __init__(self, port, topic, on_message):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        cid = b"imsm-bench"
        self.send(0x10, b"\x00\x04MQTT\x04\x02\x00\x00" + struct.pack(">H", len(cid)) + cid)
        kind, body = self.packet()
        if kind >> 4 != 2 or body[1] != 0:
            raise SystemExit("mqtt: connect refused")
        t = topic.encode()
        self.send(0x82, struct.pack(">HH", 1, len(t)) + t + b"\x01")
        kind, body = self.packet()
        if kind >> 4 != 9 or body[2] == 0x80:
            raise SystemExit("mqtt: subscribe refused")
        self.on_message = on_message
        threading.Thread(target=self.run, daemon=True).start()

    def send(self, first, body):
        n, rl = len(body), b""
        while True:
            b, n = n % 128, n // 128
            rl += bytes([b | (0x80 if n else 0)])
            if not n:
                break
        self.sock.sendall(bytes([first]) + rl + body)

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def packet(self):
        first = self.read(1)[0]
        n, mult = 0, 1
        while True:
            b = self.read(1)[0]
            n += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        return first, self.read(n)

    def run(self):
        try:
            while True:
                first, body = self.packet()
                if first >> 4 != 3:
                    continue
                tl = struct.unpack(">H", body[:2])[0]
                topic, rest = body[2:2 + tl].decode(), body[2 + tl:]
                qos = (first >> 1) & 3
                if qos:
                    self.send(0x40, rest[:2])
                    rest = rest[2:]
                self.on_message(topic, rest)
        except (EOFError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--meters", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--commit-interval-ms", default="10")
    ap.add_argument("--idle-gap-ms", default="20", help="the framer's idle gap (collect's default 20)")
    ap.add_argument("--no-api", action="store_true", help="leave out the API poller")
    ap.add_argument("--no-mqtt", action="store_true", help="leave out the MQTT sink")
    a = ap.parse_args()
    if os.environ.get("IMSM_BENCH_QUICK"):
        a.samples = min(a.samples, 200)
    tmp = tempfile.TemporaryDirectory()
    db = os.path.join(tmp.name, "b.db")
    cfg = os.path.join(tmp.name, "c.toml")
    with open(cfg, "w") as f:
        for m in range(1, a.meters + 1):
            f.write("[[meter]]\nid = %d\n" % m)
    broker, mqtt_port = start_mosquitto(tmp.name)
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    col = subprocess.Popen([a.binary, "collect", "--source", "tcp:127.0.0.1:%d" % lst.getsockname()[1],
                            "--db", db, "--config", cfg, "--no-fsync", "--commit-interval-ms",
                            a.commit_interval_ms, "--idle-gap-ms", a.idle_gap_ms, "--http", "127.0.0.1:0",
                            "--log-level", "warn"] +
                           ([] if a.no_mqtt else ["--sink", "mqtt://127.0.0.1:%d?gateway=bench" % mqtt_port]),
                           stdout=subprocess.PIPE)
    try:
        run(a, col, lst, mqtt_port, db)
    finally:
        col.kill()
        broker.kill()
        col.wait()
        broker.wait()


def run(a, col, lst, mqtt_port, db):
    base = col.stdout.readline().decode().split("listening on ")[1].strip()
    bus, _ = lst.accept()
    bus.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    cv = threading.Condition()
    seen = {"sse": {}, "mqtt": {}, "api": {}}  # channel -> meter -> monotonic ns
    want = {}  # meter -> the `readings` count the API must show (its pending frame)

    def saw(channel, meter):
        t = time.monotonic_ns()
        with cv:
            seen[channel][meter] = t
            cv.notify_all()

    stream = Stream(base, timeout=60)
    closing = False

    def follow():
        try:
            for _, kind, data in stream.frames(deadline_s=3600):
                if kind == "reading":
                    saw("sse", data["meter_id"])
        except Exception as e:  # the main loop then counts the missing readings
            if not closing:
                print("sse: %r" % e, file=sys.stderr)

    threading.Thread(target=follow, daemon=True).start()
    if not a.no_mqtt:
        MqttSubscriber(mqtt_port, "imsmeter/bench/+/state",
                       lambda topic, payload: saw("mqtt", int(topic.split("/")[2])))

    def poll_api():
        u = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while True:
            with cv:
                cv.wait_for(lambda: want)
                m, n = next(iter(want.items()))
            conn.request("GET", "/api/meters/%d" % m)
            r = conn.getresponse()
            body = r.read()
            if r.status == 200 and json.loads(body)["readings"] >= n:
                with cv:
                    want.pop(m, None)
                saw("api", m)
            else:
                time.sleep(0.001)

    if not a.no_api:
        threading.Thread(target=poll_api, daemon=True).start()

    reader = sqlite3.connect(db, timeout=10)

    def stored(m):
        return reader.execute("SELECT count(*) FROM readings WHERE meter_id = ?", (m,)).fetchone()[0]

    def wait_stored(m, before, t0):
        while stored(m) == before:
            if time.monotonic_ns() - t0 > 10e9:
                raise SystemExit("meter %d: no reading stored within 10 s" % m)
            time.sleep(0.0002)

    # Warm-up: every meter's first reading (and its discovery), one at a time (two frames in
    # one read would be one shared burst, and a shared frame waits for confirmation).
    for m in range(1, a.meters + 1):
        bus.sendall(frame(m, 1, peak=5))
        wait_stored(m, 0, time.monotonic_ns())
    channels = ["sse"] + ([] if a.no_mqtt else ["mqtt"]) + ([] if a.no_api else ["api"])
    with cv:  # every warm-up message is in (the last meter's, on both channels)
        if not cv.wait_for(lambda: all(a.meters in seen[c] for c in channels if c != "api"), timeout=60):
            raise SystemExit("warm-up readings did not reach SSE and MQTT")
    time.sleep(0.2)

    out = {c: [] for c in channels + ["baseline_sqlite_visible"]}
    missed = 0  # samples whose reading never came on SSE
    rng = random.Random(1)
    for i in range(a.samples):
        m = i % a.meters + 1
        before = stored(m)
        with cv:
            for c in seen.values():
                c.pop(m, None)
            if not a.no_api:
                want[m] = before + 1
        bus.sendall(frame(m, 1, peak=5))  # the same reading again: plausible, never held
        t0 = time.monotonic_ns()
        with cv:
            cv.notify_all()
        wait_stored(m, before, t0)
        out["baseline_sqlite_visible"].append((time.monotonic_ns() - t0) / 1e6)
        others = [c for c in channels if c != "sse"]
        with cv:
            if not cv.wait_for(lambda: all(m in seen[c] for c in others), timeout=10):
                raise SystemExit("meter %d: no reading on %s" % (m, [c for c in others if m not in seen[c]]))
            # The stream reads the outbox after the commit; the sink pump may have trimmed
            # the entry by then (every 64th commit, once the MQTT sink has it): counted, not
            # waited for (the reader also polls every 500 ms, so 2 s is enough to be sure).
            if not cv.wait_for(lambda: m in seen["sse"], timeout=2):
                missed += 1
            for c in channels:
                if m in seen[c]:
                    out[c].append((seen[c][m] - t0) / 1e6)
        time.sleep(rng.uniform(0, 0.010))
    closing = True
    stream.close()
    col.terminate()
    col.wait(timeout=30)
    load = os.getloadavg()
    for name, xs in out.items():
        print("BENCH live_latency %s_p50 %.2f ms" % (name, pct(xs, 50)))
        print("BENCH live_latency %s_p99 %.2f ms" % (name, pct(xs, 99)))
    print("BENCH live_latency sse_missed %d samples" % missed)
    print("# %d samples, %d meters, commit interval %s ms, idle gap %s ms, target p99 <= 20 ms, "
          "load average %.2f %.2f %.2f" % (a.samples, a.meters, a.commit_interval_ms, a.idle_gap_ms, *load))
    if missed:
        print("# sse: %d sample(s) never came on the stream: the sink pump trimmed their outbox "
              "entry (read by every sink) before the stream's reader read it" % missed)


if __name__ == "__main__":
    main()
