#!/usr/bin/env bash
# Builds the Prometheus access test components with Go, cached by version outside the repo
# (a warm machine never rebuilds):
#   kube-rbac-proxy  from the pinned source ../shared/vendor/kube-rbac-proxy-898a9f44.tgz
#                    (not on the Go module proxy; its dependencies come from it)
#   prom-label-proxy from its Go module github.com/prometheus-community/prom-label-proxy
# Each binary lands in $LAB_CACHE/bin/<name>-<version>; a build goes to a temporary name and
# is renamed when complete. Prints nothing on a warm cache.
#   lab/prom-access/build.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
mkdir -p "$BIN" "$LAB_CACHE/build"

build_kube_rbac_proxy() {
  local out="$BIN/kube-rbac-proxy-$KUBE_RBAC_PROXY_VERSION"
  [ -x "$out" ] && return 0
  local archive
  archive=$(shared_dir)/vendor/kube-rbac-proxy-$KUBE_RBAC_PROXY_COMMIT.tgz
  [ -f "$archive" ] || pa_die "the pinned kube-rbac-proxy source is missing: $archive"
  local src="$LAB_CACHE/build/kube-rbac-proxy-$KUBE_RBAC_PROXY_VERSION"
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$archive" -C "$src" --strip-components=1
  pa_log "building kube-rbac-proxy $KUBE_RBAC_PROXY_VERSION (first time only)"
  (cd "$src" && go build -trimpath -ldflags=-s -o "$out.tmp" ./cmd/kube-rbac-proxy)
  mv "$out.tmp" "$out"
}

build_prom_label_proxy() {
  local out="$BIN/prom-label-proxy-$PROM_LABEL_PROXY_VERSION"
  [ -x "$out" ] && return 0
  local gobin="$LAB_CACHE/build/prom-label-proxy-$PROM_LABEL_PROXY_VERSION"
  mkdir -p "$gobin"
  pa_log "building prom-label-proxy $PROM_LABEL_PROXY_VERSION (first time only)"
  GOBIN="$gobin" go install -trimpath -ldflags=-s \
    "github.com/prometheus-community/prom-label-proxy@$PROM_LABEL_PROXY_VERSION"
  mv "$gobin/prom-label-proxy" "$out"
}

command -v go >/dev/null || pa_die "Go is needed to build kube-rbac-proxy and prom-label-proxy"
build_kube_rbac_proxy
build_prom_label_proxy
