#!/usr/bin/env bash
# Benchmark of `kube-doctor classify` against `grep -E -i -c -f` with the same phrase set, on
# the same generated log (mostly ordinary lines, ~1 % real error lines of every category).
# Prints throughput of both (median of RUNS), the ratio, and peak RSS at two input sizes
# (memory must not grow with the input).
#   bench/classify.sh [SIZE_MB=1024] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1024}
RUNS=${2:-3}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
LOG="$OUT/classify-${SIZE}m.log"
SMALL="$OUT/classify-256m.log"
cargo build --release -q -p kube-doctor
KD=target/release/kube-doctor
[ -f "$LOG" ] || python3 bench/gen_log.py "$LOG" "$SIZE" >/dev/null
[ -f "$SMALL" ] || head -c $((256 * 1024 * 1024)) "$LOG" >"$SMALL"
# The classifier's own phrases, as extended regexes.
python3 - >"$OUT/grep-patterns.txt" <<'PY'
import re
s = open("crates/kube-doctor-core/src/classify/patterns.rs").read()
for p in re.findall(r'\b(?:cat|cat_code)\("((?:[^"\\]|\\.)*)"', s):
    p = p.encode().decode("unicode_escape")
    print(re.sub(r'([.^$*+?(){}\[\]|\\])', r'\\\1', p))
PY
cat "$LOG" >/dev/null  # warm the page cache for both tools alike
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Output goes to a file, not /dev/null: GNU grep notices /dev/null and stops at the first match.
time_of() { /usr/bin/time -f "%e %M" "$@" 2>&1 >"$OUT/out.tmp" | tail -1; }
kd_t=(); grep_t=(); jsonl_t=()
for _ in $(seq "$RUNS"); do
  kd_t+=("$(time_of "$KD" classify -o summary "$LOG" | cut -d' ' -f1)")
  grep_t+=("$(time_of env LC_ALL=C grep -E -i -c -f "$OUT/grep-patterns.txt" "$LOG" | cut -d' ' -f1)")
  jsonl_t+=("$(time_of "$KD" classify -o jsonl "$LOG" | cut -d' ' -f1)")
done
kd=$(printf '%s\n' "${kd_t[@]}" | median)
gr=$(printf '%s\n' "${grep_t[@]}" | median)
js=$(printf '%s\n' "${jsonl_t[@]}" | median)
rss_big=$(time_of "$KD" classify -o summary "$LOG" | cut -d' ' -f2)
rss_small=$(time_of "$KD" classify -o summary "$SMALL" | cut -d' ' -f2)
bytes=$(stat -c %s "$LOG")
patterns=$(wc -l <"$OUT/grep-patterns.txt")
awk -v b="$bytes" -v kd="$kd" -v gr="$gr" -v js="$js" -v rb="$rss_big" -v rs="$rss_small" -v n="$patterns" -v runs="$RUNS" 'BEGIN {
  mb = b / 1048576
  printf "input: %.0f MiB, %d phrases, median of %d runs, one core\n", mb, n, runs
  printf "kube-doctor classify -o summary : %6.2f s  %7.0f MiB/s\n", kd, mb / kd
  printf "grep -E -i -c -f (LC_ALL=C)     : %6.2f s  %7.0f MiB/s\n", gr, mb / gr
  printf "ratio                           : %6.2fx\n", gr / kd
  printf "kube-doctor classify -o jsonl   : %6.2f s  %7.0f MiB/s (every line written as JSON)\n", js, mb / js
  printf "peak RSS: %d KiB at %.0f MiB, %d KiB at 256 MiB\n", rb, mb, rs
}'
