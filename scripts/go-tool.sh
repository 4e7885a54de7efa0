#!/usr/bin/env bash
# Prints the path of a Go-built tool the packaging tests use, building it from its Go module the
# first time (cached by version in ~/.cache/kube-doctor-lab/bin, shared with the lab):
#   HELM=$(scripts/go-tool.sh helm)    helm v3.22.0  (about 3 CPU-minutes to build)
#   KREW=$(scripts/go-tool.sh krew)    krew v0.4.3   (about 30 CPU-seconds)
# HELM or KREW in the environment, when set, name the tool to use instead.
set -euo pipefail
case ${1:-} in
  helm) var=HELM; module=helm.sh/helm/v3/cmd/helm; version=${HELM_VERSION:-v3.22.0} ;;
  krew) var=KREW; module=sigs.k8s.io/krew/cmd/krew; version=${KREW_VERSION:-v0.4.3} ;;
  *) echo "usage: scripts/go-tool.sh helm|krew" >&2; exit 2 ;;
esac
if [ -n "${!var:-}" ]; then echo "${!var}"; exit 0; fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kube-doctor-lab
bin=$cache/bin/$1-$version
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "scripts/go-tool.sh: go is needed to build $1" >&2; exit 1; }
  echo "[go-tool] building $1 $version from its Go module (cached in $cache/bin)" >&2
  mkdir -p "$cache/bin"
  tmp=$(mktemp -d "$cache/bin-tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  GOBIN=$tmp GOFLAGS=-trimpath go install -ldflags "-s -w" "$module@$version" >&2
  mv -f "$tmp/$1" "$bin"   # atomic: another build of the same version may race this one
fi
echo "$bin"
