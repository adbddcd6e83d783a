"""The network module (docs/architecture.md "The network module"): libimsmeter-net.so holds
everything that needs cpp-httplib, Paho MQTT (OpenSSL) and libmodbus; the binary loads it with
dlopen only for `serve`, `demo`, `collect --http/--modbus/--sink mqtt[s]:`.

- The binary's NEEDED list has none of those libraries; the module's has them.
- Nothing exists twice: no imsm symbol is defined (strongly) by both the binary and the module,
  and every imsm symbol the module needs is one the binary exports (else dlopen fails).
- A binary without its module (copied alone to a directory) runs every other command, and
  each command or option that needs the module fails with exit 1, naming the file and
  dlerror()'s reason, before it creates anything; a file that is no module is the same."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import frame, run, write_capture  # noqa: E402

BINARY = None
MODULE_NAME = "libimsmeter-net.so"
NET_LIBS = ("libpaho", "libcpp-httplib", "libssl", "libcrypto", "libmodbus")


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    return [l.split("[", 1)[1].rstrip("]") for l in out.stdout.splitlines() if "(NEEDED)" in l]


def dynamic_symbols(path, defined):
    """{mangled name: nm type} of the dynamic symbol table, defined or undefined ones."""
    args = ["nm", "-D", "--defined-only" if defined else "--undefined-only", path]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    symbols = {}
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            symbols[fields[-1].split("@")[0]] = fields[-2]
    return symbols


def ours(name):
    return "4imsm" in name  # a mangled name in namespace imsm (or a vtable/typeinfo of one)


@unittest.skipUnless(shutil.which("readelf") and shutil.which("nm"), "needs binutils")
class Linking(unittest.TestCase):
    def setUp(self):
        self.module = os.path.join(os.path.dirname(BINARY), MODULE_NAME)
        self.assertTrue(os.path.exists(self.module), "the build puts the module beside imsmeter")

    def test_the_binary_does_not_link_the_network_libraries(self):
        for lib in needed(BINARY):
            self.assertFalse(lib.startswith(NET_LIBS), "imsmeter NEEDS %s" % lib)
        mod = needed(self.module)
        for lib in ("libpaho-mqttpp3", "libcpp-httplib", "libmodbus"):
            self.assertTrue(any(n.startswith(lib) for n in mod), (lib, mod))

    def test_nothing_is_defined_twice_and_nothing_is_missing(self):
        exe = dynamic_symbols(BINARY, True)
        mod = dynamic_symbols(self.module, True)
        strong = set("TDBR")  # weak and unique (inline, templates) ones are merged by the loader
        twice = [s for s, t in mod.items() if ours(s) and t in strong and exe.get(s, "") in strong]
        self.assertEqual(twice, [], "defined in both imsmeter and the module")
        missing = [s for s in dynamic_symbols(self.module, False) if ours(s) and s not in exe]
        self.assertEqual(missing, [], "the module needs these and imsmeter does not export them")
        self.assertIn("imsm_net_api", mod)


class WithoutTheModule(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "bin")
        os.mkdir(self.dir)
        self.lone = os.path.join(self.dir, "imsmeter")
        shutil.copy(BINARY, self.lone)
        self.cap = os.path.join(self.tmp.name, "cap.bin")
        write_capture(self.cap, [(i * 300.0, frame(11, 100 + i)) for i in range(4)])

    def tearDown(self):
        self.tmp.cleanup()

    def db(self, name):
        return os.path.join(self.tmp.name, name)

    def collect(self, db, *extra):
        return run(self.lone, "collect", "--source", "file:" + self.cap, "--db", db,
                   "--replay-start", "2026-11-01T00:00:00Z", "--log-level", "warn", *extra)

    def test_other_commands_run(self):
        self.assertEqual(run(self.lone, "--version").returncode, 0)
        db = self.db("a.db")
        p = self.collect(db, "--sink", "jsonl:" + self.db("out.jsonl"))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        p = run(self.lone, "readings", "--db", db, "--format", "csv")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(len(p.stdout.decode().splitlines()), 1 + 4)
        for args in (["meters", "--db", db], ["events", "--db", db], ["decode", self.cap]):
            p = run(self.lone, *args)
            self.assertEqual(p.returncode, 0, (args, p.stderr.decode()))

    def check_refused(self, what, p, db=None, path=None):
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("imsmeter: %s: cannot load the network module" % what, err)
        self.assertIn(path or MODULE_NAME, err)
        if db:
            self.assertFalse(os.path.exists(db), "refused before creating the database")
        return err

    def test_each_network_command_fails_with_exit_1(self):
        err = self.check_refused("collect --http",
                                 self.collect(self.db("h.db"), "--http", "127.0.0.1:0"),
                                 self.db("h.db"))
        self.assertIn("No such file or directory", err)  # dlerror()
        self.check_refused("collect --modbus",
                           self.collect(self.db("m.db"), "--modbus", "127.0.0.1:0"),
                           self.db("m.db"))
        self.check_refused("collect --sink mqtt://127.0.0.1:1",
                           self.collect(self.db("q.db"), "--sink", "mqtt://127.0.0.1:1"),
                           self.db("q.db"))
        self.check_refused("collect --sink mqtts://127.0.0.1:1",
                           self.collect(self.db("s.db"), "--sink", "mqtts://127.0.0.1:1"),
                           self.db("s.db"))
        self.check_refused("demo", run(self.lone, "demo", "--duration", "1s", "--dir",
                                       self.db("demo")), self.db("demo"))
        db = self.db("a.db")
        self.assertEqual(self.collect(db).returncode, 0)
        self.check_refused("serve", run(self.lone, "serve", "--db", db, "--listen", "127.0.0.1:0"))

    def test_usage_errors_come_first(self):
        # A bad option is exit 2 whether or not the module is there.
        p = self.collect(self.db("u.db"), "--http", "0.0.0.0:0")
        self.assertEqual(p.returncode, 2, p.stderr.decode())

    def test_a_file_that_is_no_module(self):
        path = os.path.join(self.dir, MODULE_NAME)
        with open(path, "w") as f:
            f.write("not an ELF file\n")
        db = self.db("a.db")
        self.assertEqual(self.collect(db).returncode, 0)
        err = self.check_refused("serve", run(self.lone, "serve", "--db", db), path=path)
        self.assertIn("too short", err)  # dlerror()


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
