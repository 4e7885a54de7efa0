#!/usr/bin/env bash
# Coverage-guided fuzzing of kube-doctor-core's parsers and matchers (cargo-fuzz, libFuzzer).
#   scripts/fuzz.sh SECONDS [TARGET...]   run each target (default: all) for SECONDS
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 7200 T   stop a target after that many executions
#                                               (SECONDS is then the cap)
# Builds on the stable toolchain (no sanitizer: the core forbids unsafe code, and without
# -Zsanitizer cargo-fuzz passes only stable -C flags). Installs cargo-fuzz when missing.
# Seeds come from fuzz/seeds/TARGET; the growing corpus is kept in fuzz/corpus/TARGET
# (not committed) and crashes in fuzz/artifacts/TARGET. Exits non-zero on the first crash,
# after printing how to reproduce it. Each target runs on one core (-jobs is not used: the
# machine is shared), with a 2 GB RSS limit and a 10 s per-input timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
all=(classify bundle_from_json exposition audit_log credentials netpol apf redact)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (once)"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi

t0=$SECONDS
cargo fuzz build -O -s none
echo "fuzz build: $((SECONDS - t0)) s"

# Larger inputs where the format needs them (bundles are tens of KB).
max_len() {
  case $1 in
    bundle_from_json) echo 65536 ;;
    audit_log | exposition | credentials) echo 16384 ;;
    classify) echo 512 ;;
    redact) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  t1=$SECONDS
  log="fuzz/artifacts/$t/last-run.log"
  # Targets without committed seeds start from an empty corpus (libFuzzer exits on a missing
  # directory).
  dirs=("fuzz/corpus/$t")
  [ -d "fuzz/seeds/$t" ] && dirs+=("fuzz/seeds/$t")
  if ! cargo fuzz run -O -s none "$t" "${dirs[@]}" -- \
      -max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len="$(max_len "$t")" \
      -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $t FAILED; reproduce with: cargo fuzz run -O -s none $t fuzz/artifacts/$t/<crash file>" >&2
    exit 1
  fi
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
  echo "fuzz $t: ${execs:-?} execs in $((SECONDS - t1)) s (${rate:-?}/s), no crash"
done
echo "fuzz total: $((SECONDS - t0)) s"
