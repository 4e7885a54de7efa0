#!/usr/bin/env bash
# Starts `kube-doctor serve` against the running lab on a spare port and storms it
# (bench/serve_storm.py): 1,000 posts of one alert in 10 s, then 50 different clients at once.
#   bench/serve-storm.sh [POSTS=1000] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(lab/env)"
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
cargo build --release -q -p kube-doctor
PORT=17081
target/release/kube-doctor serve --listen "127.0.0.1:$PORT" --token-file "$LAB_SERVE_TOKEN_FILE" \
  --prometheus "$PROMETHEUS_URL" --no-events 2>"$OUT/serve-storm.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
python3 bench/serve_storm.py "http://127.0.0.1:$PORT/api/alerts" "$LAB_SERVE_TOKEN_FILE" "${1:-1000}" "${2:-10}"
