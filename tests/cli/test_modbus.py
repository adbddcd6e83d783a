"""imsmeter serve --modbus: the Modbus TCP gateway through the real binary (docs/modbus.md),
polled by an independent client (Python pymodbus, Debian python3-pymodbus), compared register
by register with /api/meters/{id} of the same server on a database made by `imsmeter collect`.

The expected registers are computed here from the API's JSON with the documented encodings
(struct's IEEE 754 packing, big-endian words), not by the gateway's code. The server is
started on port 0 and the test reads the ports from its start-up lines (no sleeps)."""
import calendar
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import ENV, T0_ISO, frame, run, write_capture  # noqa: E402

try:
    from pymodbus.client import ModbusTcpClient
except ImportError:  # a python3 outside Debian's: the package is python3-pymodbus
    sys.path.append("/usr/lib/python3/dist-packages")
    from pymodbus.client import ModbusTcpClient

BINARY = None
# Meter 11 has a model and is configured at unit 5; meter 12 has neither: registry position 2.
CONFIG = '[[meter]]\nid = 11\nmodel = "S2-480-N-01-01-041-01"\nmodbus_unit = 5\n' \
         '[[meter]]\nid = 12\nlabel = "Plain"\n'
# guide 2.1 Figure 4: S2 = 2000 series, 480 = 277/480 V (code 5), three elements, 041 = 400 A.
MODEL_S2_480 = [2000, 5, 3, 400]
STATUS = {"waiting": 0, "online": 1, "silent": 2}


def words32(v):
    return [(v >> 16) & 0xFFFF, v & 0xFFFF]


def float_words(x):
    return words32(struct.unpack(">I", struct.pack(">f", x))[0])


def utc_seconds(iso):
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))


class Server:
    def __init__(self, db, *extra):
        self.p = subprocess.Popen([BINARY, "serve", "--db", db, "--listen", "127.0.0.1:0",
                                   "--modbus", "127.0.0.1:0", *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        lines = [self.p.stdout.readline().decode() for _ in range(2)]  # the handshakes
        if not (lines[0].startswith("imsmeter serve: modbus on 127.0.0.1:") and
                lines[1].startswith("imsmeter serve: listening on ")):
            self.p.kill()
            raise AssertionError("no handshake: %r %r" % (lines, self.p.stderr.read()))
        self.modbus_port = int(lines[0].rsplit(":", 1)[1])
        self.base = lines[1][len("imsmeter serve: listening on "):].strip()

    def api(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return json.loads(r.read().decode())

    def close(self):
        self.p.terminate()
        rc = self.p.wait(timeout=30)
        self.p.stdout.close()
        self.p.stderr.close()
        return rc


class ModbusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.db = os.path.join(d, "c.db")
        cls.cfg = os.path.join(d, "imsmeter.toml")
        with open(cls.cfg, "w") as f:
            f.write(CONFIG)
        # Meter 11: 4 frames 300 s apart, 678296..678299 kWh, peak 3313 counts (66.26 kW) and
        # 195 resets throughout (guide 2.5.2's frame last); meter 12: 3 frames, 7000..7002 kWh.
        bursts = [(10 + 300 * i, frame(11, 678296 + i, peak=3313, resets=195)) for i in range(4)]
        bursts += [(20 + 300 * i, frame(12, 7000 + i, peak=5, resets=2)) for i in range(3)]
        cap = os.path.join(d, "c.bin")
        write_capture(cap, bursts)
        p = run(BINARY, "collect", "--source", "file:" + cap, "--db", cls.db, "--config", cls.cfg,
                "--replay-start", T0_ISO, "--no-fsync")
        assert p.returncode == 0, p.stderr.decode()
        cls.server = Server(cls.db, "--config", cls.cfg)
        cls.client = ModbusTcpClient("127.0.0.1", port=cls.server.modbus_port, timeout=10)
        assert cls.client.connect()

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        assert cls.server.close() == 0
        cls.tmp.cleanup()

    def expected(self, m, model):
        """The documented map from the API's object (docs/modbus.md "Register map")."""
        return (words32(m["total_kwh"] * 100) + float_words(float(m["total_kwh"])) +
                words32(m["peak_demand_counts"] * 20) +
                float_words(m["peak_demand_counts"] * 20 / 1000) + [m["demand_resets"]] +
                [None, None] +  # seconds since the last reading: checked against a window
                [STATUS[m["status"]], m["meter_id"]] + model +
                [1 if m["registered"] else 0, m["epoch"]])

    def check_meter(self, unit, meter_id, model):
        before = time.time()
        got = {kind: getattr(self.client, kind)(0, 19, slave=unit)
               for kind in ("read_input_registers", "read_holding_registers")}
        after = time.time()
        m = self.server.api("/api/meters/%d" % meter_id)
        want = self.expected(m, model)
        last = utc_seconds(m["last_reading_at"])  # whole seconds: the age is rounded down
        for kind, rr in got.items():
            self.assertFalse(rr.isError(), (kind, rr))
            regs = rr.registers
            self.assertEqual(len(regs), 19)
            for i, w in enumerate(want):
                if w is not None:
                    self.assertEqual(regs[i], w, "%s register %d of meter %d" % (kind, i,
                                                                                 meter_id))
            age = (regs[9] << 16) | regs[10]
            self.assertGreaterEqual(age, math.floor(before) - last - 1, kind)
            self.assertLessEqual(age, math.ceil(after) - last, kind)
        return m

    def test_every_register_of_two_meters_matches_the_api(self):
        m11 = self.check_meter(5, 11, MODEL_S2_480)
        # The guide's frame (2.5.2) was meter 11's last: its documented example words.
        self.assertEqual(self.client.read_input_registers(0, 9, slave=5).registers,
                         [0x040B, 0x008C, 0x4925, 0x99B0, 0x0001, 0x02D4, 0x4284, 0x851F, 195])
        self.assertEqual((m11["total_kwh"], m11["status"]), (678299, "silent"))
        m12 = self.check_meter(2, 12, [0, 0, 0, 0])
        self.assertEqual(m12["total_kwh"], 7002)

    def test_exceptions(self):
        # Writes: 01 illegal function.
        rr = self.client.write_register(0, 1, slave=5)
        self.assertEqual((rr.isError(), rr.exception_code), (True, 0x01))
        rr = self.client.write_registers(0, [1, 2], slave=5)
        self.assertEqual(rr.exception_code, 0x01)
        rr = self.client.write_coil(0, True, slave=5)
        self.assertEqual(rr.exception_code, 0x01)
        # Beyond the map (registers 0..18): 02 illegal data address.
        rr = self.client.read_input_registers(18, 2, slave=5)
        self.assertEqual(rr.exception_code, 0x02)
        # Unit 1 is meter 11's position, but 11 is configured at 5; 9 has no meter: 0B.
        for unit in (1, 9):
            rr = self.client.read_holding_registers(0, 1, slave=unit)
            self.assertEqual(rr.exception_code, 0x0B, unit)

    def test_non_loopback_needs_the_explicit_opt_in(self):
        p = run(BINARY, "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--modbus",
                "0.0.0.0:0")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--modbus 0.0.0.0:0", p.stderr.decode())
        self.assertIn("--modbus-allow-remote", p.stderr.decode())
        p = run(BINARY, "serve", "--db", self.db, "--modbus", "nonsense")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--modbus 'nonsense'", p.stderr.decode())

    def test_remote_opt_in_passes_the_check(self):
        # 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface: with the opt-in the address is
        # accepted and the bind itself fails (exit 1, naming it), so nothing is ever exposed.
        p = run(BINARY, "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--modbus",
                "192.0.2.1:0", "--modbus-allow-remote")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("serve: modbus: 192.0.2.1:0: Cannot assign requested address",
                      p.stderr.decode())


class CollectModbusTest(unittest.TestCase):
    """`collect --modbus`: the gateway as a component of the collector, on the database it
    writes. The source is standard input (a live source that ends at EOF), so the gateway is
    up for as long as the test keeps the pipe open."""

    def test_collect_hosts_the_gateway_until_it_stops(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "imsmeter.toml")
            with open(cfg, "w") as f:
                f.write(CONFIG)
            p = subprocess.Popen([BINARY, "collect", "--source", "-", "--db",
                                  os.path.join(d, "c.db"), "--config", cfg, "--no-fsync",
                                  "--modbus", "127.0.0.1:0"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
            try:
                line = p.stdout.readline().decode()  # the handshake: printed once bound
                self.assertTrue(line.startswith("imsmeter collect: modbus on 127.0.0.1:"),
                                (line, p.stderr.read() if p.poll() is not None else b""))
                client = ModbusTcpClient("127.0.0.1", port=int(line.rsplit(":", 1)[1]),
                                         timeout=10)
                self.assertTrue(client.connect())
                # Meter 11 is configured at unit 5 and has no reading yet: register 11 is its
                # status, 0 = waiting, register 12 its ID, 11 (docs/modbus.md).
                rr = client.read_input_registers(11, 2, slave=5)
                self.assertFalse(rr.isError(), rr)
                self.assertEqual(rr.registers, [STATUS["waiting"], 11])
                self.assertEqual(client.read_holding_registers(0, 1, slave=9).exception_code,
                                 0x0B)
                client.close()
            finally:
                p.stdin.close()  # end of input: collect flushes and exits
                rc = p.wait(timeout=60)
                p.stdout.close()
                p.stderr.close()
            self.assertEqual(rc, 0)

    def test_collect_refuses_a_non_loopback_gateway_without_the_opt_in(self):
        p = run(BINARY, "collect", "--source", "-", "--db", "/nonexistent/x.db", "--modbus",
                "0.0.0.0:1502")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("collect: --modbus 0.0.0.0:1502 is not a loopback address",
                      p.stderr.decode())


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
