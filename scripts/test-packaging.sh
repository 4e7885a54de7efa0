#!/usr/bin/env bash
# Everything kube-doctor ships, built and tested from a fresh Debian machine (as root):
#   scripts/test-packaging.sh        the static release binary and archives, the source tarball
#                                    install, the OCI image and SBOM, helm, the offline, chart,
#                                    release and image tests (crates/kube-doctor/tests/packaging.rs)
#   scripts/test-packaging.sh --lab-only  only the lab part below (after a run without --lab)
#   scripts/test-packaging.sh --lab  then, against the running lab (the one lab/env describes;
#                                    the prometheus-operator CRDs are created in it when missing):
#                                    the chart applied with --dry-run=server, and serve run
#                                    in-cluster with the chart's identity through a real fault
# Go and cargo builds are cached by version in ~/.cache/kube-doctor-lab.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
say() { printf '\n=== [packaging %4ss] %s\n' $((SECONDS - t0)) "$*"; }
lab=0 offline=1
case ${1:-} in
  --lab) lab=1 ;;
  --lab-only) lab=1 offline=0 ;;
  "") ;;
  *) echo "usage: scripts/test-packaging.sh [--lab|--lab-only]" >&2; exit 2 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ $offline = 1 ]; then
say "release: static musl binary, archives, checksums, krew manifest"
scripts/release.sh

say "OCI image and SBOM"
scripts/build-image.sh
case $(target/x86_64-unknown-linux-musl/release/kube-doctor --version) in
  *"commit unknown"*) echo "the image's binary does not name its commit" >&2; exit 1 ;;
esac

say "cargo install from a source tarball (no .git): builds, and says commit unknown"
git archive --format=tar HEAD | tar -x -C "$tmp"
# Same target directory and settings as release.sh, so only the two workspace crates rebuild.
# The two builds share cargo's fingerprints: after this one, the repository's next release
# build would be "fresh" with this build's "commit unknown". Marking the build script changed
# makes that next build re-run it. (The image above is built first, so its build is fresh.)
CC_x86_64_unknown_linux_musl=musl-gcc CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_TARGET_DIR="$PWD/target" \
  cargo install --quiet --locked --path "$tmp/crates/kube-doctor" --target x86_64-unknown-linux-musl \
  --root "$tmp/root"
v=$("$tmp/root/bin/kube-doctor" --version)
echo "$v"
[[ $v == *"(commit unknown)" ]] || { echo "a build without .git should say 'commit unknown', not: $v" >&2; exit 1; }
touch crates/kube-doctor/build.rs

say "helm and krew (Go-built, cached by version)"
HELM=$(scripts/go-tool.sh helm)
KREW=$(scripts/go-tool.sh krew)
export HELM KREW
"$HELM" version --short

# kubectl: the one on PATH, else the lab's build of it, else the kubectl test is skipped.
LAB_KUBECTL=${LAB_KUBECTL:-$(. lab/lib/common.sh && lab_kubectl)}
skip=(--skip lab_)
if [ -x "$LAB_KUBECTL" ]; then export LAB_KUBECTL; else skip+=(--skip kubectl_); echo "no kubectl here: the plugin test is skipped" >&2; fi

say "packaging tests: offline, kubectl plugin, chart, release, image"
cargo test -p kube-doctor --locked --test packaging -- --include-ignored "${skip[@]}"

fi
[ $lab = 1 ] || { say "done in $((SECONDS - t0)) s (no lab tests; --lab runs them)"; exit 0; }

export HELM=${HELM:-$(scripts/go-tool.sh helm)}
say "the prometheus-operator CRDs in the lab (kube-prometheus-stack 77.14.0's charts/crds)"
eval "$(lab/env)"
# shared/ sits beside the repository (CI, /work/main); a worktree under wt/ is one level deeper.
vendor=${KUBE_DOCTOR_VENDOR:-}
for d in ../shared/vendor ../../shared/vendor; do [ -n "$vendor" ] || { [ -d "$d" ] && vendor=$d; }; done
[ -f "$vendor/kube-prometheus-stack-77.14.0.tgz" ] || { echo "no shared/vendor/kube-prometheus-stack-77.14.0.tgz beside the repository (KUBE_DOCTOR_VENDOR names its folder)" >&2; exit 1; }
tar -xzf "$vendor/kube-prometheus-stack-77.14.0.tgz" -C "$tmp" kube-prometheus-stack/charts/crds/crds
for f in "$tmp"/kube-prometheus-stack/charts/crds/crds/crd-*.yaml; do
  name=$(sed -n 's/^  name: \(.*\.monitoring\.coreos\.com\)$/\1/p' "$f" | head -1)
  "$LAB_KUBECTL" --kubeconfig "$LAB_ADMIN_KUBECONFIG" get crd "$name" >/dev/null 2>&1 ||
    "$LAB_KUBECTL" --kubeconfig "$LAB_ADMIN_KUBECONFIG" create -f "$f" >/dev/null
done
"$LAB_KUBECTL" --kubeconfig "$LAB_ADMIN_KUBECONFIG" wait --for condition=Established --timeout 60s \
  crd/alertmanagerconfigs.monitoring.coreos.com crd/servicemonitors.monitoring.coreos.com \
  crd/prometheusrules.monitoring.coreos.com >/dev/null

say "packaging tests against the lab: dry-run=server, serve in-cluster"
cargo test -p kube-doctor --locked --test packaging -- --include-ignored --test-threads=1 lab_

say "done in $((SECONDS - t0)) s"
