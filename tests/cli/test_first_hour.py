"""A new user's first hour (issue 14), through the real binary: unknown commands, databases that
do not exist or are not databases, event kinds, meter status at the time of asking, tables with
long names, timing sidecars in collect, --version. Exit codes: 0 ok, 1 a file that cannot be read
or written, 2 a bad argument or bad file content (SPEC "Exit codes")."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collect_support import T0_ISO, T0_S, frame, iso, jsonl, run, write_capture  # noqa: E402

BINARY = None
COMMANDS = ["decode", "model", "collect", "readings", "events", "meters", "report", "rebuild",
            "simulate", "accuracy"]
CADENCE = 300.0  # guide 2.5: one frame every 5 minutes


class FirstHour(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "c.db")

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def collect(self, cap, *extra, expect=0, db=None):
        p = run(BINARY, "collect", "--source", "file:" + cap, "--db", db or self.db,
                "--replay-start", T0_ISO, "--no-fsync", *extra)
        self.assertEqual(p.returncode, expect, p.stderr.decode())
        return p

    def two_meter_db(self, source_name="m.bin"):
        """Meters 11 and 12, registered, each sending at 0, 300, 600 s (T0 + ...)."""
        cfg = self.path("c.toml")
        open(cfg, "w").write("[[meter]]\nid = 11\n[[meter]]\nid = 12\n")
        bursts = []
        for k in range(3):
            bursts.append((k * CADENCE + 1.0, frame(11, 100 + k)))
            bursts.append((k * CADENCE + 2.0, frame(12, 500 + k)))
        cap = self.path(source_name)
        write_capture(cap, bursts)
        self.collect(cap, "--config", cfg)
        return cap

    # --- commands ------------------------------------------------------------------------
    def test_unknown_command_exits_2_listing_the_commands(self):
        for word in ("servr", "foo"):
            with self.subTest(word=word):
                p = run(BINARY, word)
                self.assertEqual(p.returncode, 2)
                err = p.stderr.decode()
                self.assertIn("unknown command '%s'" % word, err)
                self.assertNotIn("A subcommand is required", err)
                for c in COMMANDS:
                    self.assertIn(c, err)

    def test_no_command_exits_2_listing_the_commands(self):
        p = run(BINARY)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"a command is required", p.stderr)
        self.assertIn(b"decode, model", p.stderr)

    def test_every_command_has_help(self):
        for c in COMMANDS:
            with self.subTest(command=c):
                p = run(BINARY, c, "--help")
                self.assertEqual(p.returncode, 0)
                self.assertIn(b"Exit codes", p.stdout)

    def test_version_names_revision_and_libraries(self):
        p = run(BINARY, "--version")
        self.assertEqual(p.returncode, 0)
        out = p.stdout.decode()
        self.assertRegex(out, r"^imsmeter \d+\.\d+\.\d+\n")
        self.assertRegex(out, r"\ngit revision \S+\n")
        # The SQLite the binary runs with, as sqlite3 itself reports it.
        self.assertIn("SQLite %s " % sqlite3.sqlite_version, out)
        for lib in ("fmt", "spdlog", "nlohmann_json", "toml++", "CLI11"):
            self.assertRegex(out, r"\n%s \d+\.\d+" % lib.replace("+", r"\+"))

    def test_man_pages_carry_every_option_of_help(self):
        """The pages are generated from the same definitions as --help: each command's page
        names each long option its --help lists (roff writes '-' as '\\-')."""
        import gzip, re
        p = run(BINARY, "help-dump", "--man-dir", self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        root = open(self.path("imsmeter.1")).read()
        for c in COMMANDS:
            self.assertIn("imsmeter\\-%s" % c, root)
            page = open(self.path("imsmeter-%s.1" % c)).read()
            self.assertTrue(page.startswith('.TH "imsmeter\\-%s" 1' % c), page[:80])
            helptext = run(BINARY, c, "--help").stdout.decode()
            options = set(re.findall(r"--([a-z][a-z0-9-]*)", helptext))
            self.assertGreater(len(options), 1, c)
            for o in options:
                self.assertIn("\\-\\-" + o.replace("-", "\\-"), page, (c, o))
        self.assertNotIn("help-dump", root)  # hidden

    def test_bash_completion_completes_commands_and_options(self):
        import shutil
        if not shutil.which("bash"):
            self.skipTest("no bash")
        p = run(BINARY, "help-dump", "--bash")
        self.assertEqual(p.returncode, 0)
        script = self.path("imsmeter.bash")
        open(script, "wb").write(p.stdout)

        def complete(*words):
            cmd = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _imsmeter; '
                   'printf "%s\\n" "${COMPREPLY[@]}"')
            r = subprocess.run(["bash", "-c", cmd, "x", script, *words], capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return set(r.stdout.decode().split())

        self.assertEqual(complete("imsmeter", "de"), {"decode", "demo"})
        self.assertEqual(complete("imsmeter", "dec"), {"decode"})
        self.assertEqual(complete("imsmeter", "decode", "--fo"), {"--format"})
        self.assertEqual(complete("imsmeter", "meters", "--so"), {"--sources"})
        self.assertTrue({"--db", "--kind"} <= complete("imsmeter", "events", "--"))

    # --- databases -----------------------------------------------------------------------
    def test_missing_database_exits_1_naming_it_and_creates_nothing(self):
        typo = self.path("typo.db")
        for args in (["rebuild"], ["meters"], ["meters", "--sources"], ["events"], ["readings"],
                     ["report", "--from", "2026-11-01", "--to", "2026-11-02", "--energy-only"]):
            with self.subTest(args=args):
                p = run(BINARY, *args, "--db", typo)
                self.assertEqual(p.returncode, 1)
                self.assertIn(typo.encode(), p.stderr)
                self.assertIn(b"no such database", p.stderr)
                self.assertFalse(os.path.exists(typo), "an empty database was created")

    def test_a_file_that_is_not_a_database_is_named(self):
        junk = self.path("notes.txt")
        open(junk, "w").write("this is not SQLite\n" * 100)
        for args in (["rebuild"], ["meters"], ["events"], ["collect", "--source", "-"]):
            with self.subTest(args=args):
                p = run(BINARY, *args, "--db", junk)
                self.assertEqual(p.returncode, 1)
                self.assertIn(junk.encode() + b": ", p.stderr)
                self.assertIn(b"not a database", p.stderr)

    def test_collect_names_a_database_it_cannot_create(self):
        bad = "/nonexistent-imsm-dir/x.db"
        p = run(BINARY, "collect", "--source", "-", "--db", bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn(("database " + bad + ": unable to open").encode(), p.stderr)

    def test_a_directory_is_not_a_database(self):
        p = run(BINARY, "meters", "--db", self.dir)
        self.assertEqual(p.returncode, 1)
        self.assertIn((self.dir + ": is a directory").encode(), p.stderr)

    # --- events --------------------------------------------------------------------------
    def test_events_kind_typo_exits_2_naming_the_kinds(self):
        self.two_meter_db()
        p = run(BINARY, "events", "--db", self.db, "--kind", "discoverd")
        self.assertEqual(p.returncode, 2)
        err = p.stderr.decode()
        self.assertIn("'discoverd'", err)
        for k in ("discovered", "demand_reset", "rollover", "silent", "back_online", "replaced",
                  "source_up", "source_down", "rebuilt"):
            self.assertIn(k, err)
        good = run(BINARY, "events", "--db", self.db, "--kind", "discovered")
        self.assertEqual(good.returncode, 0)
        self.assertEqual(sorted(e["meter_id"] for e in jsonl(good.stdout)), [11, 12])

    def test_events_list_in_id_order(self):
        self.two_meter_db()
        # Give the events times in the reverse of their ids (as a real-time source_up and
        # scaled-time meter events can be): the listing keeps the order they were raised in.
        con = sqlite3.connect(self.db)
        ids = [r[0] for r in con.execute("SELECT id FROM events ORDER BY id")]
        self.assertGreaterEqual(len(ids), 2)
        for rank, i in enumerate(ids):
            con.execute("UPDATE events SET at_us = ? WHERE id = ?",
                        ((T0_S + 1000 - rank) * 1_000_000, i))
        con.commit()
        con.close()
        for fmt in ("jsonl", "csv", "table"):
            with self.subTest(format=fmt):
                p = run(BINARY, "events", "--db", self.db, "--format", fmt)
                self.assertEqual(p.returncode, 0)
                rows = p.stdout.decode().splitlines()
                if fmt == "jsonl":
                    got = [json.loads(l)["id"] for l in rows]
                else:
                    got = [int(l.split(",")[0] if fmt == "csv" else l.split()[0]) for l in rows[1:]]
                self.assertEqual(got, ids)

    # --- meters --------------------------------------------------------------------------
    def test_meter_status_is_computed_at_the_time_of_asking(self):
        self.two_meter_db()
        last = T0_S + 2 * CADENCE + 2.0  # meter 12's last frame; meter 11's is 1 s earlier

        def status(at):
            p = run(BINARY, "meters", "--db", self.db, "--at", at)
            self.assertEqual(p.returncode, 0, p.stderr)
            return {m["meter_id"]: (m["status"], m["as_of"]) for m in jsonl(p.stdout)}

        # Silent after 3 missed cadences (collector default): 900 s after the last reading.
        soon = iso(last + 60)
        self.assertEqual(status(soon), {11: ("online", soon), 12: ("online", soon)})
        edge = iso(last + 900)  # exactly 900 s after meter 12's last: still online; 11 is 901 s
        self.assertEqual(status(edge), {11: ("silent", edge), 12: ("online", edge)})
        later = iso(last + 3600)
        self.assertEqual(status(later), {11: ("silent", later), 12: ("silent", later)})
        # Asked now (by default): from the real clock, whatever the collector last saw. On a
        # machine whose clock is past T0 + 16 min (T0 = 2026-11-01) that is silent.
        import time
        want = "silent" if time.time() - last > 900 else "online"
        now = jsonl(run(BINARY, "meters", "--db", self.db).stdout)
        self.assertEqual([m["status"] for m in now], [want, want])
        p = run(BINARY, "meters", "--db", self.db, "--at", "yesterday")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--at 'yesterday'", p.stderr)

    def assert_columns_line_up(self, text):
        """Cells are separated by two or more spaces; in every column, all cells (header
        included) start at one offset (left-aligned) or end at one offset (right-aligned)."""
        import re
        spans = [[m.span() for m in re.finditer(r"\S+(?: \S+)*", line)]
                 for line in text.splitlines()]
        self.assertGreater(len(spans), 1, text)
        for line in spans:
            self.assertEqual(len(line), len(spans[0]), "cell count differs in:\n" + text)
        for col in range(len(spans[0])):
            starts = {line[col][0] for line in spans}
            ends = {line[col][1] for line in spans}
            self.assertTrue(len(starts) == 1 or len(ends) == 1,
                            "column %d does not line up in:\n%s" % (col, text))

    def test_tables_hold_long_source_paths(self):
        long_name = "a-very-long-capture-name-from-the-basement-panel-" + "x" * 40 + ".bin"
        cap = self.two_meter_db(long_name)
        p = run(BINARY, "meters", "--db", self.db, "--sources", "--format", "table")
        self.assertEqual(p.returncode, 0)
        self.assertIn(cap.encode(), p.stdout)
        self.assert_columns_line_up(p.stdout.decode())
        p = run(BINARY, "events", "--db", self.db, "--format", "table")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"discovered", p.stdout)
        self.assert_columns_line_up(p.stdout.decode())
        p = run(BINARY, "meters", "--db", self.db, "--format", "table", "--at", iso(T0_S + 700))
        self.assertEqual(p.returncode, 0)
        self.assert_columns_line_up(p.stdout.decode())
        self.assertIn(b"online", p.stdout)

    def test_rejected_frames_table_has_a_detail_header(self):
        # Not a registered meter, and seen once: rejected with a detail.
        cap = self.path("r.bin")
        write_capture(cap, [(1.0, frame(77, 1))])
        self.collect(cap)
        p = run(BINARY, "readings", "--db", self.db, "--rejected", "--format", "table")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("detail", p.stdout.decode().splitlines()[0])

    # --- timing sidecars in collect ------------------------------------------------------
    def test_collect_refuses_an_absurd_time_with_exit_2(self):
        cap = self.path("t.bin")
        open(cap, "wb").write(frame(11, 1) + frame(11, 2))
        open(cap + ".times", "w").write("0 0\n12 9999999999\n")
        p = self.collect(cap, expect=2)
        self.assertIn(b".times:2", p.stderr)
        self.assertEqual(
            sqlite3.connect(self.db).execute("SELECT count(*) FROM frames").fetchone()[0]
            if os.path.exists(self.db) else 0, 0)

    def test_collect_takes_an_empty_sidecar_as_untimed_and_says_so(self):
        cap = self.path("e.bin")
        open(cap, "wb").write(frame(11, 1))
        open(cap + ".times", "w").write("")
        p = self.collect(cap)
        self.assertIn(b"holds no timing line", p.stderr)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
