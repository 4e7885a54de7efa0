#!/usr/bin/env bash
# Prints the path of helm $HELM_VERSION, building it from its Go module the first time (cached
# by version in ~/.cache/kube-doctor-lab/bin, shared with the lab; about 3 minutes on 2 cores).
#   HELM=$(scripts/helm.sh)
set -euo pipefail
# HELM, when set, names a helm to use instead.
if [ -n "${HELM:-}" ]; then echo "$HELM"; exit 0; fi
HELM_VERSION=${HELM_VERSION:-v3.22.0}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kube-doctor-lab
bin=$cache/bin/helm-$HELM_VERSION
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "scripts/helm.sh: go is needed to build helm (apt-get install golang-go, or Go from go.dev)" >&2; exit 1; }
  echo "[helm] building helm $HELM_VERSION from its Go module (cached in $cache/bin)" >&2
  tmp=$(mktemp -d "$cache/bin-tmp.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/bin-tmp.XXXXXX"; })
  trap 'rm -rf "$tmp"' EXIT
  GOBIN=$tmp GOFLAGS=-trimpath go install -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mkdir -p "$cache/bin"
  mv -f "$tmp/helm" "$bin"   # atomic: another build of the same version may race this one
fi
echo "$bin"
