#!/usr/bin/env bash
# Whole-program benchmark of `imsmeter simulate` (docs/performance.md "Simulator"):
# 1,000 meters x 30 days at 1-minute load resolution, file output, --speed max.
#   bash bench/sim.sh path/to/imsmeter       (IMSM_BENCH_QUICK=1: 3 days instead of 30)
# Prints "BENCH sim <variant> <meter-seconds per second> meter-s/s"; the same-run baseline is
# the same fleet with constant loads (no daily shapes, no randomness per step).
set -euo pipefail
bin=${1:?usage: sim.sh IMSMETER}
days=30
[[ -n "${IMSM_BENCH_QUICK:-}" ]] && days=3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fleet() {  # $1 = load kinds (space separated)
  python3 - "$@" <<'PY'
import sys
kinds = sys.argv[1].split()
models = ["S2-480-N-01-01-041-01", "S2-208-N-04-02-021-01", "S1-240-R-12-01-011-01",
          "S1-120-X-01-01-011-00"]
print("seed = 1\nload_resolution_s = 60\n[[bus]]\nname = \"main\"\n")
for i in range(1000):
    print('[[meter]]\nid = %d\nmodel = "%s"\n[meter.load]\nkind = "%s"\ncurrent_a = %d\npf = 0.9\n'
          % (i + 1, models[i % 4], kinds[(i // 4) % len(kinds)], 30 + i % 50))
PY
}

run() {  # $1 = variant, $2 = config, extra args...
  local variant=$1 cfg=$2
  shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" simulate --config "$cfg" --duration "${days}d" --out "file:$work/bus.bin" --speed max \
    --no-progress "$@" >/dev/null 2>"$work/err"
  t1=$(date +%s.%N)
  python3 -c "
import sys
wall = $t1 - $t0
print('# sim %s: 1000 meters x %d days in %.2f s wall (target < 60 s for 30 days)' % ('$variant', $days, wall))
print('BENCH sim %s %.0f meter-s/s' % ('$variant', 1000 * $days * 86400 / wall))
"
}

fleet "constant" >"$work/constant.toml"
fleet "constant residential office retail" >"$work/mixed.toml"
run baseline_constant_1000x${days}d "$work/constant.toml"
run mixed_1000x${days}d "$work/mixed.toml"
