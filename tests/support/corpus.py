"""Framer corpus helpers shared by the CLI tests: load a case, materialise it as a capture."""
import json
import os
import re
import shutil
import subprocess

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "framer")


def cases():
    return sorted(f[:-4] for f in os.listdir(CORPUS_DIR) if f.endswith(".hex"))


def load_bytes(name):
    text = open(os.path.join(CORPUS_DIR, name + ".hex")).read()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return bytes.fromhex(text)


def materialise(name, directory):
    """Writes the case as a raw capture (and its .times sidecar) in directory; returns the path."""
    path = os.path.join(directory, name + ".bin")
    with open(path, "wb") as f:
        f.write(load_bytes(name))
    times = os.path.join(CORPUS_DIR, name + ".times")
    if os.path.exists(times):
        shutil.copy(times, path + ".times")
    return path


def run_decode(binary, path):
    proc = subprocess.run([binary, "decode", path], capture_output=True, text=True, timeout=60)
    frames = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    m = re.search(r"(\d+) frames?, (\d+) bytes, (\d+) skipped \(no_stop_byte (\d+), "
                  r"non_zero_padding (\d+), cut_by_gap (\d+), cut_at_end (\d+)\)", proc.stderr)
    skipped = None
    if m:
        keys = ["frames", "bytes", "skipped", "no_stop_byte", "non_zero_padding", "cut_by_gap", "cut_at_end"]
        skipped = dict(zip(keys, map(int, m.groups())))
    for f in frames:  # the file name is not part of the expectation
        f.pop("source", None)
    return proc.returncode, frames, skipped


def expected(name):
    with open(os.path.join(CORPUS_DIR, name + ".expected.json")) as f:
        return json.load(f)
