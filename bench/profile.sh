#!/usr/bin/env bash
# Where an investigation's time goes, as flame graphs: RUNS back-to-back `kube-doctor
# investigate` runs on the running lab, profiled three ways at once.
#   1. The whole machine (perf record -a): CPU by process, since the API server, etcd, KWOK,
#      Prometheus and kube-doctor share the cores. -> $OUT/profile-by-process.txt
#   2. kube-doctor itself (perf, its own threads) -> $OUT/flame-kube-doctor.svg
#   3. Prometheus, which evaluates step 3's and step 7's queries, from its own Go CPU profile
#      (/debug/pprof/profile; the Debian binary carries no symbols perf can read)
#      -> $OUT/flame-prometheus.svg and $OUT/profile-prometheus-top.txt
# Also each step's wall time from a saved bundle -> $OUT/profile-steps.tsv.
#   bench/profile.sh [RUNS=20]
# Needs a running lab (lab/up); installs perf (Debian's linux-perf) and inferno (crates.io)
# when they are missing. perf needs perf_event_paranoid <= 1 or root.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
eval "$(lab/env)"
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
command -v inferno-flamegraph >/dev/null || cargo install --locked -q inferno
cargo build --release -q -p kube-doctor
KD=$PWD/target/release/kube-doctor
kd() { "$KD" investigate --prometheus "$PROMETHEUS_URL" --since 5m -o json "$@" >/dev/null 2>&1 || true; }

kd # warm-up
# How long the runs take decides how long Prometheus profiles itself.
t0=$(date +%s.%N); kd; t1=$(date +%s.%N)
secs=$(python3 -c "import math,sys; print(max(2, math.ceil(($t1 - $t0) * $RUNS) + 1))")

curl -sf -o "$OUT/prometheus.pprof" "$PROMETHEUS_URL/debug/pprof/profile?seconds=$secs" &
pprof_pid=$!
sleep 0.2
perf record -q -a -g -F 997 -o "$OUT/perf.data" -- \
  bash -c "for _ in \$(seq $RUNS); do \"$KD\" investigate --prometheus \"$PROMETHEUS_URL\" --since 5m -o json >/dev/null 2>&1 || true; done" \
  2>"$OUT/perf.log"
wait "$pprof_pid"

perf report -i "$OUT/perf.data" --no-children --sort comm -g none --percent-limit 0.5 2>/dev/null |
  grep -v '^#' | grep -v '^$' >"$OUT/profile-by-process.txt"
# kube-doctor's threads: the main one carries the binary's name, tokio's workers their own.
perf script -i "$OUT/perf.data" --comms kube-doctor,tokio-rt-worker 2>/dev/null |
  inferno-collapse-perf >"$OUT/kube-doctor.folded"
inferno-flamegraph --title "kube-doctor investigate x$RUNS (its own CPU)" \
  <"$OUT/kube-doctor.folded" >"$OUT/flame-kube-doctor.svg"

go tool pprof -top -nodecount=25 "$OUT/prometheus.pprof" >"$OUT/profile-prometheus-top.txt" 2>/dev/null
go tool pprof -traces "$OUT/prometheus.pprof" 2>/dev/null | python3 bench/pprof_fold.py >"$OUT/prometheus.folded"
inferno-flamegraph --title "Prometheus during kube-doctor investigate x$RUNS" \
  <"$OUT/prometheus.folded" >"$OUT/flame-prometheus.svg"

# Each step's wall time, from one more run's bundle.
kd --save-bundle "$OUT/profile-bundle.json"
python3 - "$OUT/profile-bundle.json" >"$OUT/profile-steps.tsv" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
print("step\tstatus\tms\tapi_requests\tprometheus_queries")
for s in b["steps"]:
    print(f'{s["step"]}\t{s["status"]}\t{s["duration_ms"]}\t{s["api_requests"]}\t{s.get("prometheus_queries", 0)}')
EOF

echo "CPU by process over $RUNS runs (perf, whole machine):"
head -8 "$OUT/profile-by-process.txt"
echo "Prometheus, top functions by cumulative CPU:"
grep -E 'Duration|promql|tsdb' "$OUT/profile-prometheus-top.txt" | head -8
echo "Steps (one run):"
column -t "$OUT/profile-steps.tsv"
echo "Flame graphs: $OUT/flame-kube-doctor.svg $OUT/flame-prometheus.svg"
