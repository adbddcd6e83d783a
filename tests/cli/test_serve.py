"""imsmeter serve: the HTTP API and /metrics through the real binary (docs/http.md).

Every endpoint is compared with what `imsmeter meters/readings/events` print for the same
database (the same writers, so equal by construction only if the routes pass the right rows);
the server is started on port 0 and the test waits for its 'listening on' line (no sleeps)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import ENV, T0_ISO, frame, jsonl, query, run, write_capture  # noqa: E402
from sse_support import Stream  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a python3 outside Debian's: the package is python3-prometheus-client
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

BINARY = None
# A label with a quote, a backslash and a newline (TOML basic-string escapes).
LABEL = 'Unit "4B" \\ east\nwing'
CONFIG = '[[tariff]]\nname = "std"\nenergy_per_kwh = "0.1432"\ndemand_per_kw = "12.50"\n' \
         '[[meter]]\nid = 11\nlabel = "Unit \\"4B\\" \\\\ east\\nwing"\ntenant = "Acme"\n' \
         'tariff = "std"\n[[meter]]\nid = 12\nlabel = "Plain"\ntenant = "Bolt"\ntariff = "std"\n'


class Server:
    def __init__(self, db, *extra):
        self.p = subprocess.Popen([BINARY, "serve", "--db", db, "--listen", "127.0.0.1:0", *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        line = self.p.stdout.readline().decode()  # the handshake: printed once it accepts
        prefix = "imsmeter serve: listening on "
        if not line.startswith(prefix):
            self.p.kill()
            raise AssertionError("no handshake: %r %r" % (line, self.p.stderr.read()))
        self.base = line[len(prefix):].strip()

    def get(self, path, headers=None):
        req = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def json(self, path):
        status, _, body = self.get(path)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def close(self):
        self.p.terminate()
        self.p.wait(timeout=30)
        self.p.stdout.close()
        self.p.stderr.close()


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.db = os.path.join(d, "c.db")
        cfg = cls.cfg = os.path.join(d, "imsmeter.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        # Meter 11: 5 readings 300 s apart, 100..104 kWh, a demand reset at the 4th; meter 12: 2.
        # The peak rises to the 4th and stays: a rise (or a reset) is held until the meter's
        # next frame confirms it (validator hindsight), so the last frame must not change them.
        bursts = [(10 + 300 * i, frame(11, 100 + i, peak=40 + min(i, 3),
                                       resets=1 if i >= 3 else 0))
                  for i in range(5)]
        bursts += [(20 + 300 * i, frame(12, 7000 + i, peak=5)) for i in range(2)]
        cap = os.path.join(d, "c.bin")
        write_capture(cap, bursts)
        p = run(BINARY, "collect", "--source", "file:" + cap, "--db", cls.db, "--config", cfg,
                "--replay-start", T0_ISO, "--no-fsync")
        assert p.returncode == 0, p.stderr.decode()
        cls.server = Server(cls.db, "--config", cfg)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.tmp.cleanup()

    def cli(self, *args):
        p = run(BINARY, *args, "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode()

    def test_healthz(self):
        self.assertEqual(self.server.json("/healthz")["status"], "ok")

    def test_meters_and_one_meter_match_the_cli(self):
        # `as_of` is the time of asking (status is computed then): equal but for it.
        def asked(ms):
            for m in ms:
                self.assertRegex(m.pop("as_of"), r"^\d{4}-\d\d-\d\dT")
            return ms
        expected = asked(jsonl(self.cli("meters").encode()))
        self.assertEqual(asked(self.server.json("/api/meters")), expected)
        self.assertEqual([m["meter_id"] for m in expected], [11, 12])
        self.assertEqual(asked([self.server.json("/api/meters/11")])[0], expected[0])

    def test_unknown_meter_is_404_and_a_bad_id_400_naming_it(self):
        status, _, body = self.server.get("/api/meters/999")
        self.assertEqual(status, 404, body)
        self.assertIn("999", json.loads(body)["error"])
        status, _, body = self.server.get("/api/meters/99999/readings")
        self.assertEqual((status, json.loads(body)["parameter"]), (400, "meter_id"))
        status, _, body = self.server.get("/api/nothing")
        self.assertEqual(status, 404)

    def test_readings_match_the_cli_and_pages_join_to_the_whole(self):
        expected = jsonl(self.cli("readings", "--meter", "11").encode())
        self.assertEqual(len(expected), 5)  # the five frames of meter 11 written above
        whole = self.server.json("/api/meters/11/readings")
        self.assertEqual((whole["readings"], whole["next_cursor"]), (expected, None))
        pages, cursor = [], ""
        while True:  # limit 2: pages of 2, 2, 1
            page = self.server.json("/api/meters/11/readings?limit=2" +
                                    ("&cursor=" + cursor if cursor else ""))
            pages.append(len(page["readings"]))
            expected_rows = expected[sum(pages) - pages[-1]:sum(pages)]
            self.assertEqual(page["readings"], expected_rows)
            if page["next_cursor"] is None:
                break
            cursor = page["next_cursor"]
        self.assertEqual(pages, [2, 2, 1])
        status, headers, body = self.server.get("/api/meters/11/readings?format=csv")
        self.assertEqual(status, 200)
        self.assertEqual(body, self.cli("readings", "--meter", "11", "--format", "csv"))

    def test_readings_from_to_and_interval_match_the_cli(self):
        f, t = "2026-11-01T00:05:00Z", "2026-11-01T00:20:00Z"
        expected = jsonl(self.cli("readings", "--meter", "11", "--from", f, "--to", t).encode())
        self.assertEqual(len(expected), 3)  # readings at 310, 610 and 910 s
        got = self.server.json("/api/meters/11/readings?from=%s&to=%s" % (f, t))["readings"]
        self.assertEqual(got, expected)
        status, _, body = self.server.get(
            "/api/meters/11/readings?interval=15m&from=2026-11-01T00:00:00Z&to=2026-11-01T00:30:00Z")
        self.assertEqual(status, 200, body)
        cli = self.cli("readings", "--meter", "11", "--interval", "15m", "--from",
                       "2026-11-01T00:00:00Z", "--to", "2026-11-01T00:30:00Z", "--format", "json")
        self.assertEqual(json.loads(body), json.loads(cli))

    def test_bad_parameters_are_400_naming_them(self):
        for path, param in [("/api/meters/11/readings?from=yesterday", "from"),
                            ("/api/meters/11/readings?limit=0", "limit"),
                            ("/api/meters/11/readings?limit=10001", "limit"),
                            ("/api/meters/11/readings?cursor=xyz", "cursor"),
                            ("/api/meters/11/readings?format=xml", "format"),
                            ("/api/meters/11/readings?interval=7m&from=2026-11-01&to=2026-11-02",
                             "interval"),
                            ("/api/meters/11/readings?colour=red", "colour"),
                            ("/api/events?kind=party", "kind"),
                            ("/api/events?meter=-1", "meter"),
                            ("/api/events?to=soon", "to")]:
            status, headers, body = self.server.get(path)
            self.assertEqual(status, 400, path)
            self.assertTrue(headers["Content-Type"].startswith("application/json"), path)
            self.assertEqual(json.loads(body)["parameter"], param, path)

    def test_events_match_the_cli(self):
        expected = jsonl(self.cli("events").encode())
        self.assertEqual(self.server.json("/api/events"), expected)
        resets = jsonl(self.cli("events", "--meter", "11", "--kind", "demand_reset").encode())
        self.assertEqual(len(resets), 1)  # the reset counter went 0 -> 1 at the 4th reading
        self.assertEqual(self.server.json("/api/events?meter=11&kind=demand_reset"), resets)

    def test_report_is_the_same_bill_as_the_cli(self):
        period = ["--from", "2026-11-01", "--to", "2026-11-02", "--config", self.cfg]
        q = "/api/report?from=2026-11-01&to=2026-11-02"
        cli = self.cli("report", *period, "--format", "json")
        bill = self.server.json(q + "&format=json")
        self.assertEqual(bill, json.loads(cli))
        self.assertIn("Acme", cli)  # a bill with both tenants, not an empty one
        self.assertEqual(self.server.get(q + "&format=csv")[2],
                         self.cli("report", *period, "--format", "csv"))
        cli = self.cli("report", *period, "--format", "json", "--tenant", "Bolt",
                       "--tz", "America/New_York")
        self.assertEqual(self.server.json(q + "&format=json&tenant=Bolt&tz=America/New_York"),
                         json.loads(cli))
        for bad, param in [("&tz=Mars/Olympus", "tz"), ("&tenant=Nobody", "tenant"),
                           ("&format=pdf", "format")]:
            status, _, body = self.server.get(q + bad)
            self.assertEqual((status, json.loads(body)["parameter"]), (400, param), bad)
        status, _, body = self.server.get("/api/report?to=2026-11-02")
        self.assertEqual((status, json.loads(body)["parameter"]), (400, "from"))

    def test_sources_match_the_cli(self):
        expected = jsonl(self.cli("meters", "--sources").encode())
        self.assertEqual(self.server.json("/api/sources"), expected)

    def test_metrics_parse_with_escaped_labels_and_the_last_reading(self):
        status, headers, body = self.server.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        samples = {}
        for fam in text_string_to_metric_families(body):
            for s in fam.samples:
                samples.setdefault(s.name, []).append(s)
        energy = {s.labels["meter_id"]: s for s in samples["imsmeter_energy_kwh_total"]}
        # Last frames: meter 11 at 104 kWh (100 + 4), meter 12 at 7001 kWh.
        self.assertEqual(energy["11"].value, 104)
        self.assertEqual(energy["12"].value, 7001)
        self.assertEqual(energy["11"].labels["label"], LABEL)  # quote, backslash, newline back
        self.assertEqual(energy["11"].labels["tenant"], "Acme")
        resets = {s.labels["meter_id"]: s.value for s in samples["imsmeter_demand_resets"]}
        self.assertEqual(resets, {"11": 1, "12": 0})
        peak = {s.labels["meter_id"]: s.value for s in samples["imsmeter_peak_demand_kw"]}
        last = jsonl(self.cli("readings", "--meter", "11").encode())[-1]
        self.assertEqual(peak["11"], last["peak_demand_kw"])
        # Replayed in 2026-11: the server's clock is later, so every age is positive.
        for s in samples["imsmeter_last_reading_age_seconds"]:
            self.assertGreater(s.value, 0)
        frames = {s.labels["source"]: s.value for s in samples["imsmeter_source_frames_total"]}
        self.assertEqual(list(frames.values()), [7])  # one file source, 5 + 2 frames

    def test_metrics_per_meter_status_ratio_and_what_serve_cannot_know(self):
        _, _, body = self.server.get("/metrics")
        fams = {f.name: f for f in text_string_to_metric_families(body)}

        def by_meter(name):
            return {s.labels["meter_id"]: s.value for s in fams[name].samples}
        # Readings stored: the capture's 5 frames of meter 11 and 2 of meter 12.
        self.assertEqual(by_meter("imsmeter_meter_readings"), {"11": 5, "12": 2})
        # serve's clock is the wall clock: the capture was replayed at 2026-11-01, so both
        # meters are silent now (more than 3 cadences of 300 s after their last frame) and the
        # last hour holds none of their readings (ratio 0 of the 12 or 13 frames promised).
        status = {(s.labels["meter_id"], s.labels["status"]): s.value
                  for s in fams["imsmeter_meter_status"].samples}
        self.assertEqual(status, {("11", "silent"): 1, ("11", "online"): 0, ("11", "waiting"): 0,
                                  ("12", "silent"): 1, ("12", "online"): 0, ("12", "waiting"): 0})
        self.assertEqual(by_meter("imsmeter_meter_receive_ratio"), {"11": 0, "12": 0})
        self.assertEqual(fams["imsmeter_meter_status"].samples[0].labels["label"], LABEL)
        src = [s.value for s in fams["imsmeter_source_reconnects"].samples]
        self.assertEqual(src, [0])  # a file source never reconnects
        self.assertEqual(fams["imsmeter_sink_outbox_depth"].samples, [])  # collect had no sink
        # The outbox head: the outbox table's newest seq, read with sqlite3.
        head = query(self.db, "SELECT max(seq) FROM outbox")[0][0]
        self.assertEqual(fams["imsmeter_outbox_head_seq"].samples[0].value, head)
        # Only a running collector knows its commits and its sources' health.
        for name in ("imsmeter_store_commit_duration_seconds", "imsmeter_store_commit_batch_frames",
                     "imsmeter_source_up"):
            self.assertNotIn(name, fams)

    def test_token_is_required_on_every_request(self):
        srv = Server(self.db, "--http-token", "s3cret")
        try:
            for path in ("/healthz", "/metrics", "/api/meters"):
                self.assertEqual(srv.get(path)[0], 401, path)
                self.assertEqual(srv.get(path, {"Authorization": "Bearer wrong"})[0], 401, path)
                self.assertEqual(srv.get(path, {"Authorization": "Bearer s3cret"})[0], 200, path)
        finally:
            srv.close()

    def test_request_body_over_the_limit_is_413(self):
        req = urllib.request.Request(self.server.base + "/api/meters", data=b"x" * 5000,
                                     method="POST")  # the limit is 4096 bytes (docs/http.md)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=30)
        self.assertEqual(cm.exception.code, 413)
        cm.exception.close()

    def test_token_file_and_token_exclusive(self):
        path = os.path.join(self.tmp.name, "token")
        with open(path, "w") as f:
            f.write("fromfile \n")  # trailing blanks and the newline are not the token
        srv = Server(self.db, "--http-token-file", path)
        try:
            self.assertEqual(srv.get("/healthz")[0], 401)
            self.assertEqual(srv.get("/healthz", {"Authorization": "Bearer fromfile"})[0], 200)
        finally:
            srv.close()
        p = run(BINARY, "serve", "--db", self.db, "--http-token", "a", "--http-token-file", path)
        self.assertEqual(p.returncode, 2)
        p = run(BINARY, "serve", "--db", self.db, "--listen", "0.0.0.0:0",
                "--http-token-file", os.path.join(self.tmp.name, "missing"))
        self.assertEqual(p.returncode, 1, p.stderr.decode())
        self.assertIn("--http-token-file", p.stderr.decode())

    def test_non_loopback_listen_without_token_is_refused(self):
        p = run(BINARY, "serve", "--db", self.db, "--listen", "0.0.0.0:0")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--http-token", p.stderr.decode())

    def test_stream_replays_the_outbox_after_last_event_id(self):
        # The database's own outbox table (sqlite3, not the server) is the expected sequence.
        seqs = [r[0] for r in query(self.db, "SELECT seq FROM outbox ORDER BY seq")]
        self.assertGreater(len(seqs), 7)  # 7 readings plus events at least
        s = Stream(self.server.base, last_event_id=0)
        frames = s.take(len(seqs))
        s.close()
        self.assertEqual([f[0] for f in frames], seqs)
        kinds = {f[1] for f in frames}
        self.assertLessEqual({"reading", "event"}, kinds)
        first_reading = next(f for f in frames if f[1] == "reading")[2]
        self.assertEqual(first_reading["seq"], next(f for f in frames if f[1] == "reading")[0])
        half = seqs[len(seqs) // 2]
        s = Stream(self.server.base, last_event_id=half)
        rest = s.take(len(seqs) - seqs.index(half) - 1)
        s.close()
        self.assertEqual([f[0] for f in rest], seqs[seqs.index(half) + 1:])

    def test_stream_sees_what_another_process_commits(self):
        # serve polls the outbox's max seq on a timer: a collect run into the same database
        # after the client connected reaches the client.
        import shutil
        db = os.path.join(self.tmp.name, "live.db")
        shutil.copy(self.db, db)
        srv = Server(db)
        try:
            s = Stream(srv.base)
            cap = os.path.join(self.tmp.name, "more.bin")
            write_capture(cap, [(620, frame(12, 7002, peak=5))])
            p = run(BINARY, "collect", "--source", "file:" + cap, "--db", db, "--config",
                    self.cfg, "--replay-start", T0_ISO, "--no-fsync")
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            got = next(f for f in s.frames() if f[1] == "reading")
            s.close()
            self.assertEqual((got[2]["meter_id"], got[2]["total_kwh"]), (12, 7002))
        finally:
            srv.close()

    def test_stream_bound_and_bad_last_event_id(self):
        srv = Server(self.db, "--max-streams", "1")
        try:
            a = Stream(srv.base)
            self.assertEqual(a.status, 200)
            b = Stream(srv.base)  # over the bound: refused, not queued
            self.assertEqual(b.status, 503)
            self.assertIn("limit 1", json.loads(b.resp.read())["error"])
            b.close()
            a.close()
            bad = Stream(self.server.base, last_event_id="soon")
            self.assertEqual(bad.status, 400)
            self.assertEqual(json.loads(bad.resp.read())["parameter"], "Last-Event-ID")
            bad.close()
        finally:
            srv.close()

    def test_dashboard_is_embedded_with_a_csp(self):
        status, headers, body = self.server.get("/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
        self.assertIn('<script src="/app.js">', body)
        for path, kind in [("/app.js", "text/javascript"), ("/style.css", "text/css"),
                           ("/uplot.min.js", "text/javascript"), ("/uplot.min.css", "text/css")]:
            status, headers, body = self.server.get(path)
            self.assertEqual(status, 200, path)
            self.assertTrue(headers["Content-Type"].startswith(kind), path)
        # uPlot is the npm package's own file (web/node_modules, from the lockfile).
        pkg = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web",
                           "node_modules", "uplot", "dist", "uPlot.iife.min.js")
        with open(pkg, encoding="utf-8") as f:
            self.assertEqual(self.server.get("/uplot.min.js")[2], f.read())

    def test_missing_database_is_exit_1(self):
        p = run(BINARY, "serve", "--db", os.path.join(self.tmp.name, "none.db"))
        self.assertEqual(p.returncode, 1, p.stderr.decode())


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
