#!/usr/bin/env bash
# Benchmark of `kube-doctor investigate` on the lab grown to several sizes (lab/scale), side by
# side with the same playbook typed as kubectl commands (bench/kubectl-playbook.sh), on the
# same cluster in the same run, with one real fault (rbac-revoked) active so that there is
# something to find. For each size: wall time (median of RUNS after a warm-up), Kubernetes API
# requests, bytes read from the API server (counted by a TCP proxy in front of it), peak RSS,
# and the verdict. Results go to bench/out/investigate.tsv and bench/out/investigate.svg.
#   bench/investigate.sh [SIZES="100 1000 5000"] [RUNS=5]
# Needs a running lab (lab/up). Leaves the lab scaled to the largest size; lab/scale clean
# shrinks it back.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-100 1000 5000}
RUNS=${2:-5}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
eval "$(lab/env)"
cargo build --release -q -p kube-doctor
KD=$PWD/target/release/kube-doctor
. lab/lib/common.sh

# A counting proxy in front of the API server; every tool under test goes through it.
PROXY_PORT=16445
STATS="$OUT/proxy.stats"
"$BIN/lab-proxy" --listen "127.0.0.1:$PROXY_PORT" --upstream "127.0.0.1:$APISERVER_PORT" \
  --blackhole "$OUT/never" --stats "$STATS" 2>"$OUT/proxy.log" &
PROXY_PID=$!
cleanup() { kill "$PROXY_PID" 2>/dev/null || true; lab/fault clear rbac-revoked >/dev/null 2>&1 || true; }
trap cleanup EXIT
sed "s#https://127.0.0.1:$APISERVER_PORT#https://127.0.0.1:$PROXY_PORT#" "$KUBECONFIG" >"$OUT/kd.kubeconfig"
sed "s#https://127.0.0.1:$APISERVER_PORT#https://127.0.0.1:$PROXY_PORT#" "$LAB_ADMIN_KUBECONFIG" >"$OUT/admin.kubeconfig"
sleep 0.5
down_bytes() { cut -d' ' -f1 "$STATS" 2>/dev/null || echo 0; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One measured run of a command: prints "seconds rss_kib bytes_down".
measure() {
  local b0 b1
  sleep 0.3; b0=$(down_bytes)
  /usr/bin/time -o "$OUT/run.time" -f "%e %M" "$@" >"$OUT/run.out" 2>"$OUT/run.err" || true
  sleep 0.3; b1=$(down_bytes)
  echo "$(tail -1 "$OUT/run.time") $((b1 - b0))"
}

# Start from the plain lab: sizes grow from there (lab/scale is additive).
lab/scale clean
for _ in $(seq 1 180); do
  left=$(kubectl --kubeconfig "$LAB_ADMIN_KUBECONFIG" get ns -l lab.kube-doctor.io/scale=true --no-headers 2>/dev/null | wc -l)
  [ "$left" -eq 0 ] && break
  sleep 5
done
lab/fault rbac-revoked >/dev/null
sleep 30
printf 'pods\ttool\tmedian_s\tmin_s\tmax_s\tapi_requests\tbytes_down\tpeak_rss_mib\tverdict\n' >"$OUT/investigate.tsv"
for n in $SIZES; do
  lab/scale "$n"
  pods=$(kubectl --kubeconfig "$LAB_ADMIN_KUBECONFIG" get pods -A --no-headers 2>/dev/null | wc -l)
  events=$(kubectl --kubeconfig "$LAB_ADMIN_KUBECONFIG" get events -A --no-headers 2>/dev/null | wc -l)
  echo "== $n: $pods pods, $events events in the cluster" >&2

  # kube-doctor
  kd_cmd=("$KD" investigate --kubeconfig "$OUT/kd.kubeconfig" --prometheus "$PROMETHEUS_URL" --since 5m -o json)
  "${kd_cmd[@]}" >/dev/null 2>&1 || true   # warm-up
  times=(); rss=(); bytes=()
  for _ in $(seq "$RUNS"); do
    read -r t m b < <(measure "${kd_cmd[@]}")
    times+=("$t"); rss+=("$m"); bytes+=("$b")
  done
  req=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(s["api_requests"] for s in r["steps"]))' "$OUT/run.out")
  verdict=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); v=r["verdicts"]; print(v[0]["cause"] if v else "none")' "$OUT/run.out")
  kd_med=$(printf '%s\n' "${times[@]}" | median)
  printf '%s\tkube-doctor\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pods" "$kd_med" \
    "$(printf '%s\n' "${times[@]}" | sort -n | head -1)" "$(printf '%s\n' "${times[@]}" | sort -n | tail -1)" \
    "$req" "$(printf '%s\n' "${bytes[@]}" | median)" \
    "$(( $(printf '%s\n' "${rss[@]}" | sort -n | tail -1) / 1024 ))" "$verdict" >>"$OUT/investigate.tsv"

  # The same playbook typed as kubectl commands.
  ktimes=(); kbytes=()
  KUBECONFIG="$OUT/admin.kubeconfig" bench/kubectl-playbook.sh >/dev/null 2>&1 || true  # warm-up
  for _ in $(seq "$RUNS"); do
    read -r t m b < <(measure env KUBECONFIG="$OUT/admin.kubeconfig" bench/kubectl-playbook.sh)
    ktimes+=("$t"); kbytes+=("$b")
  done
  kreq=$(grep -c '^kubectl ' "$OUT/run.out" || true)
  printf '%s\tkubectl script\t%s\t%s\t%s\t%s\t%s\t-\t(a human reads it)\n' "$pods" \
    "$(printf '%s\n' "${ktimes[@]}" | median)" \
    "$(printf '%s\n' "${ktimes[@]}" | sort -n | head -1)" "$(printf '%s\n' "${ktimes[@]}" | sort -n | tail -1)" \
    "$kreq commands" "$(printf '%s\n' "${kbytes[@]}" | median)" >>"$OUT/investigate.tsv"
  tail -2 "$OUT/investigate.tsv" >&2
done
python3 bench/chart.py "$OUT/investigate.tsv" "$OUT/investigate.svg"
column -t -s $'\t' "$OUT/investigate.tsv"
