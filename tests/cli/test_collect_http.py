"""collect --http: the HTTP API and /api/stream as a component of the collector's loop
(docs/http.md), driven over a real TCP source the test feeds frame by frame.

The stream is checked against the database's own outbox table (read with sqlite3, not through
the server): a client sees a reading committed after it connected, and a client that resumes
with Last-Event-ID gets exactly the outbox entries after that id, in order, none twice."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request
import calendar
import json
import time

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a python3 outside Debian's: the package is python3-prometheus-client
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import ENV, frame, query, run  # noqa: E402
from sse_support import Stream  # noqa: E402

BINARY = None
CONFIG = '[[meter]]\nid = 11\nlabel = "Plain"\ntenant = "Acme"\n'


class Collector:
    """collect --source tcp:(a socket of the test) --http 127.0.0.1:0; the test writes frames."""

    def __init__(self, tmp, *extra, config=CONFIG):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(30)
        port = self.listener.getsockname()[1]
        self.db = os.path.join(tmp, "c.db")
        cfg = os.path.join(tmp, "imsmeter.toml")
        with open(cfg, "w") as f:
            f.write(config)
        self.p = subprocess.Popen([BINARY, "collect", "--source", "tcp:127.0.0.1:%d" % port,
                                   "--db", self.db, "--config", cfg, "--no-fsync",
                                   "--commit-interval-ms", "50", "--http", "127.0.0.1:0", *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        line = self.p.stdout.readline().decode()  # the handshake: printed once bound
        self.modbus_port = None
        if line.startswith("imsmeter collect: modbus on "):  # printed before the HTTP line
            self.modbus_port = int(line.rsplit(":", 1)[1])
            line = self.p.stdout.readline().decode()
        prefix = "imsmeter collect: listening on "
        if not line.startswith(prefix):
            self.p.kill()
            raise AssertionError("no handshake: %r %r" % (line, self.p.stderr.read()))
        self.base = line[len(prefix):].strip()
        self.bus, _ = self.listener.accept()  # the collector's source connected

    def send(self, kwh, meter=11):
        # Same register value every time: a frame a few ms after the last is not "too fast".
        self.bus.sendall(frame(meter, kwh, peak=5))

    def json(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return r.status, json.loads(r.read())

    def metrics(self):
        with urllib.request.urlopen(self.base + "/metrics", timeout=30) as r:
            return {f.name: f for f in text_string_to_metric_families(r.read().decode())}

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=30)
        err = self.p.stderr.read().decode()
        self.close()
        return rc, err

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.bus, self.listener, self.p.stdout, self.p.stderr):
            f.close()


def outbox_after(db, seq):
    return [r[0] for r in query(db, "SELECT seq FROM outbox WHERE seq > ? ORDER BY seq", seq)]


class CollectHttpTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.c = Collector(self.tmp.name)

    def tearDown(self):
        self.c.close()
        self.tmp.cleanup()

    def test_stream_delivers_new_readings_and_resumes_without_gaps_or_repeats(self):
        s = Stream(self.c.base)
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["Content-Type"].startswith("text/event-stream"))
        self.c.send(100)  # after the stream opened
        got = []
        for f in s.frames():
            got.append(f)
            if f[1] == "reading":
                break
        seq, kind, data = got[-1]
        self.assertEqual((data["meter_id"], data["total_kwh"], data["seq"]), (11, 100, seq))
        s.close()
        last = got[-1][0]
        # Three more frames while the client is away; then it resumes from `last`. A second
        # client, connected from `last` meanwhile, is the handshake: it sees the commits (the
        # outbox is committed before it is streamed), so no polling of the database is needed.
        watcher = Stream(self.c.base, last_event_id=last)
        for _ in range(3):
            self.c.send(100)
        watcher.take(3)
        watcher.close()
        expected = outbox_after(self.c.db, last)
        r = Stream(self.c.base, last_event_id=last)
        ids = [f[0] for f in r.take(len(expected))]
        self.assertEqual(ids, expected)  # every entry after `last`, in order, once
        # And it follows live from there: the next frame's entries come next, nothing older.
        self.c.send(100)
        nxt = r.take(1)[0]
        self.assertEqual(nxt[0], expected[-1] + 1)
        r.close()
        rc, err = self.c.stop()
        self.assertEqual(rc, 0, err)

    def test_healthz_lists_the_collector_components(self):
        self.c.send(100)
        status, h = self.c.json("/healthz")
        self.assertEqual(status, 200)
        names = [c["name"] for c in h["components"]]
        # The loop's components in registration order: writer, each source, then http.
        self.assertEqual(names[0], "store")
        self.assertTrue(names[1].startswith("source tcp:127.0.0.1:"), names)
        self.assertEqual(names[2], "http")
        self.assertIn(h["status"], ("ok", "starting"))

    def test_api_reads_the_live_database(self):
        s = Stream(self.c.base)
        self.c.send(123)
        for f in s.frames():
            if f[1] == "reading":
                break
        s.close()
        status, meters = self.c.json("/api/meters")
        self.assertEqual([(m["meter_id"], m["total_kwh"]) for m in meters], [(11, 123)])
        rc, err = self.c.stop()
        self.assertEqual(rc, 0, err)  # SIGTERM: server threads joined, store flushed


class CollectHttpMetricsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_metrics_of_the_running_writer_and_source(self):
        # Three registered meters: each one's first frame is a reading at once.
        c = Collector(self.tmp.name, config=CONFIG + "[[meter]]\nid = 12\n[[meter]]\nid = 13\n")
        try:
            s = Stream(c.base)
            frames_of = s.frames()
            # One frame at a time, each after the last one's reading was streamed (the
            # handshake; frames back to back would share a burst, a collision).
            for meter in (11, 12, 13):
                c.send(100, meter)
                for f in frames_of:
                    if f[1] == "reading" and f[2]["meter_id"] == meter:
                        break
            s.close()
            fams = c.metrics()
            frames = query(c.db, "SELECT count(*) FROM frames")[0][0]
            self.assertEqual(frames, 3)
            batch = {x.name: x for x in fams["imsmeter_store_commit_batch_frames"].samples}
            latency = {x.name: x for x in fams["imsmeter_store_commit_duration_seconds"].samples}
            # Every frame journaled (3, by sqlite3) was written by one of the commits counted.
            self.assertEqual(batch["imsmeter_store_commit_batch_frames_sum"].value, frames)
            n = batch["imsmeter_store_commit_batch_frames_count"].value
            self.assertGreaterEqual(n, 1)
            self.assertEqual(latency["imsmeter_store_commit_duration_seconds_count"].value, n)
            inf = [x for x in fams["imsmeter_store_commit_duration_seconds"].samples
                   if x.labels.get("le") == "+Inf"]
            self.assertEqual(inf[0].value, n)
            self.assertEqual(fams["imsmeter_store_frames"].samples[0].value, 3)
            up = {x.labels["source"]: x.value for x in fams["imsmeter_source_up"].samples}
            self.assertEqual(list(up.values()), [1])
            self.assertTrue(list(up)[0].startswith("tcp:127.0.0.1:"))
            status = {x.labels["status"]: x.value for x in fams["imsmeter_meter_status"].samples
                      if x.labels["meter_id"] == "11"}
            self.assertEqual(status, {"online": 1, "silent": 0, "waiting": 0})
        finally:
            rc, err = c.stop()
        self.assertEqual(rc, 0, err)

    def test_status_runs_on_the_collectors_scaled_clock(self):
        # --clock-scale 1000: the collector's clock runs 1000 times real time, so the meter
        # is silent (last frame more than 3 x 300 s before the clock) after about 0.9 s of
        # real time. On the wall clock it would take 15 minutes: a wall-clock status fails.
        c = Collector(self.tmp.name, "--clock-scale", "1000")
        try:
            s = Stream(c.base)
            c.send(100)
            # The handshake: the validator's `silent` event for meter 11, published on the
            # stream when the collector's clock passed 900 s after the frame (its sweep runs on
            # that clock too); the status is read after it.
            kinds = []
            for f in s.frames():
                kinds.append((f[1], f[2].get("kind")))
                if f[1] == "event" and f[2].get("kind") == "silent":
                    break
            s.close()
            self.assertIn(("event", "silent"), kinds)
            _, m = c.json("/api/meters/11")
            self.assertEqual(m["status"], "silent", m)
            # as_of is the collector's clock: at least 900 s past the wall clock's now, less
            # the real time the scale turned into it.
            as_of = calendar.timegm(time.strptime(m["as_of"][:19], "%Y-%m-%dT%H:%M:%S"))
            self.assertGreater(as_of - time.time(), 800)
        finally:
            rc, err = c.stop()
        self.assertEqual(rc, 0, err)


    def test_modbus_runs_on_the_collectors_scaled_clock(self):
        # The same for the Modbus gateway (docs/modbus.md): meter 11 (unit 1, its registry
        # position) reads status 2 (silent) and at least 900 s since its reading once the
        # `silent` event is out; on the wall clock: status 1 (online) and 0-1 s.
        try:
            from pymodbus.client import ModbusTcpClient
        except ImportError:  # a python3 outside Debian's: the package is python3-pymodbus
            sys.path.append("/usr/lib/python3/dist-packages")
            from pymodbus.client import ModbusTcpClient
        c = Collector(self.tmp.name, "--clock-scale", "1000", "--modbus", "127.0.0.1:0")
        try:
            self.assertIsNotNone(c.modbus_port)
            s = Stream(c.base)
            c.send(100)
            for f in s.frames():
                if f[1] == "event" and f[2].get("kind") == "silent":
                    break
            s.close()
            # The gateway reads the collector's clock at each turn of its loop; the turn after
            # the event's commit is at most one tick away: ask until it shows (bounded).
            client = ModbusTcpClient("127.0.0.1", port=c.modbus_port, timeout=10)
            self.assertTrue(client.connect())
            for _ in range(200):
                rr = client.read_input_registers(9, 3, slave=1)  # seconds since (u32), status
                self.assertFalse(rr.isError(), rr)
                if rr.registers[2] == 2:
                    break
            client.close()
            self.assertEqual(rr.registers[2], 2, rr.registers)
            self.assertGreaterEqual((rr.registers[0] << 16) | rr.registers[1], 900)
        finally:
            rc, err = c.stop()
        self.assertEqual(rc, 0, err)


class CollectHttpOptionsTest(unittest.TestCase):
    def test_non_loopback_without_token_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            p = run(BINARY, "collect", "--source", "tcp:127.0.0.1:9", "--db",
                    os.path.join(d, "x.db"), "--http", "0.0.0.0:0")
            self.assertEqual(p.returncode, 2, p.stderr.decode())
            self.assertIn("--http-token", p.stderr.decode())
            p = run(BINARY, "collect", "--source", "tcp:127.0.0.1:9", "--db",
                    os.path.join(d, "x.db"), "--http-token", "t")
            self.assertEqual(p.returncode, 2, p.stderr.decode())
            self.assertIn("--http", p.stderr.decode())
            p = run(BINARY, "collect", "--source", "tcp:127.0.0.1:9", "--db",
                    os.path.join(d, "x.db"), "--http", "127.0.0.1:99999")
            self.assertEqual(p.returncode, 2, p.stderr.decode())

    def test_token_guards_the_api_not_the_page(self):
        with tempfile.TemporaryDirectory() as d:
            c = Collector(d, "--http-token", "s3cret")
            try:
                with self.assertRaises(urllib.error.HTTPError) as cm:
                    urllib.request.urlopen(c.base + "/api/meters", timeout=30)
                self.assertEqual(cm.exception.code, 401)
                cm.exception.close()
                req = urllib.request.Request(c.base + "/api/meters",
                                             headers={"Authorization": "Bearer s3cret"})
                with urllib.request.urlopen(req, timeout=30) as r:
                    self.assertEqual(r.status, 200)
                # The page holds no data: it loads, then asks for the token.
                with urllib.request.urlopen(c.base + "/", timeout=30) as r:
                    self.assertIn(b"token-form", r.read())
                s = Stream(c.base)
                self.assertEqual(s.status, 401)
                s.close()
            finally:
                rc, err = c.stop()
            self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
