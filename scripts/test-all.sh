#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (Debian's Prometheus and
# Alertmanager, the Go-built Kubernetes components, the Python client - all through lab/up),
# checks formatting and lints, runs the unit and fixture tests, brings the lab up, and runs
# the tests against the real lab (faults, collect, diagnose, serve). Go builds are cached in
# ~/.cache/kube-doctor-lab by version; one lab serves all lab tests.
#   scripts/test-all.sh            everything
#   SKIP_LAB=1 scripts/test-all.sh no lab (unit and fixture tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
# One build per run: incremental compilation only costs time and disk here.
export CARGO_INCREMENTAL=0
t0=$SECONDS
say() { printf '\n=== [%4ss] %s\n' $((SECONDS - t0)) "$*"; }

say "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo --version

say "format"
cargo fmt --all -- --check

say "the I/O crate's layering: no module imports its parent's items, no step another step"
graph=$(mktemp)
python3 scripts/import-graph.py | tee "$graph"
grep -q '^back-edges (a module importing its ancestor.s own items): 0$' "$graph"
grep -q '^step-to-step edges: 0$' "$graph"
grep -q '^cycles between top-level modules: 0$' "$graph"

say "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "the pure core has no network I/O"
if cargo tree -p kube-doctor-core -e normal --prefix none | grep -E '^(tokio|hyper|reqwest|axum|kube-client|kube) ' ; then
  echo "kube-doctor-core depends on network crates" >&2
  exit 1
fi

say "unit and fixture tests"
cargo test --workspace --locked


say "fuzz targets compile (the runs themselves: scripts/fuzz.sh, numbers in the README)"
CARGO_TARGET_DIR="$PWD/target" cargo check --manifest-path fuzz/Cargo.toml --locked --bins

say "HTML report in headless Chromium (installs Debian's chromium when missing)"
scripts/html-screenshot.sh examples/incident-bundle.json target/lab-artifacts

say "packaging: static release binary, archives, OCI image and SBOM, chart, kubectl plugin"
scripts/test-packaging.sh

if [ "${SKIP_LAB:-0}" = 1 ]; then
  say "SKIP_LAB=1: not running the lab tests"
  exit 0
fi

say "lab up (builds and caches the Go components on first use)"
lab/up
trap 'status=$?; if [ $status -ne 0 ]; then say "lab logs (last lines)"; tail -n 20 "${LAB_STATE:-/tmp/kube-doctor-lab}"/logs/*.log 2>/dev/null || true; fi' EXIT

say "tests against the lab: faults, incidents (issue 17), serve, Prometheus access (lab/prom-access), trust (lab/faultproxy, planted secrets)"
cargo test -p kube-doctor --locked --test lab -- --include-ignored --test-threads=1
# Prometheus access's components next (they add a client failing on purpose, which the healthy-lab
# test above must not see): its serve test needs an alert 15 minutes old, which the incident
# tests' minutes make up for.
lab/prom-access/up >/dev/null
cargo test -p kube-doctor --locked --test lab_incidents --test prometheus_access \
  --test trust_secrets --test trust_proxy -- --include-ignored --test-threads=1

say "packaging on the lab: the chart applied with --dry-run=server, serve in-cluster"
scripts/test-packaging.sh --lab-only

say "the lab as kube-prometheus-stack users' clusters are (issue 13): its operator, rules and labels, three API servers behind HAProxy, kubeadm's control-plane pods; then managed"
lab/down
LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 lab/up
cargo test -p kube-doctor --locked --test lab_kps -- --include-ignored --test-threads=1 kps_
lab/down
LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 LAB_MANAGED=1 lab/up
cargo test -p kube-doctor --locked --test lab_kps -- --include-ignored --test-threads=1 managed_
lab/down

say "done in $((SECONDS - t0)) s"
