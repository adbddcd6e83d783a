#!/usr/bin/env bash
# The 10,000 meters x 30 days database of docs/performance.md ("On data `collect` wrote"),
# written by `imsmeter collect` itself (issue #9). Not run by scripts/bench (it takes 30-60
# minutes on 2 cores and ~10 GB):
#   bench/tools/collect_10000x30.sh IMSMETER WORKDIR
# 10 buses of 1,000 meters (10,000 on one 9600-baud bus would collide on ~57 % of their
# phases), IDs and loads drawn like `simulate --meters` (seed 7); one capture per bus with its
# .times, then one `collect --no-fsync` per bus into WORKDIR/big.db, one after the other (file
# sources given together run in parallel threads, interleaving the buses' clocks).
set -euo pipefail
bin=${1:?usage: collect_10000x30.sh IMSMETER WORKDIR}
work=${2:?usage: collect_10000x30.sh IMSMETER WORKDIR}
mkdir -p "$work"
python3 - "$work/fleet.toml" <<'PY'
import random, sys
rng = random.Random(7)
ids = rng.sample(range(1, 65536), 10000)
out = ["seed = 7", ""]
for b in range(10):
    out += ["[[bus]]", 'name = "b%d"' % b, ""]
for i, mid in enumerate(ids):
    frac = rng.uniform(0.1, 0.8)  # of the 400 A CT rating, as simple mode draws
    out += ["[[meter]]", "id = %d" % mid, 'bus = "b%d"' % (i // 1000),
            'model = "S2-480-N-01-01-041-01"', "[meter.load]",
            'kind = "%s"' % rng.choice(["constant", "residential", "office", "retail"]),
            "current_a = %.1f" % (400.0 * frac), "pf = %.3f" % rng.uniform(0.85, 1.0), ""]
open(sys.argv[1], "w").write("\n".join(out))
PY
outs=()
for b in 0 1 2 3 4 5 6 7 8 9; do outs+=(--out "b$b=file:$work/b$b.bin"); done
/usr/bin/time -f "simulate %e s wall, %U s user, %M kB" "$bin" simulate --config "$work/fleet.toml" \
  --duration 30d --speed max --no-progress "${outs[@]}" > "$work/simulate.out"
for b in 0 1 2 3 4 5 6 7 8 9; do
  /usr/bin/time -f "collect b$b %e s wall, %U s user, %S s sys, %M kB peak RSS" "$bin" collect \
    --source "file:$work/b$b.bin" --db "$work/big.db" --replay-start 2026-11-01T00:00:00Z \
    --no-fsync --log-level warn
done
