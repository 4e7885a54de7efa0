#!/usr/bin/env bash
# Builds the lab's real Go components from the Go module proxy into a cache outside the repo,
# keyed by version, so that a warm machine never rebuilds. Sourced by lab/up; can run alone:
#   lab/lib/build.sh            build whatever is missing
# Each binary lands in $LAB_CACHE/bin/<name>-<version>; a build goes to a temporary name and is
# renamed when complete, so an interrupted build is never mistaken for a finished one.
set -euo pipefail

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=../versions.env
. "$LAB_DIR/versions.env"
LAB_CACHE=${LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-doctor-lab}
BIN="$LAB_CACHE/bin"
mkdir -p "$BIN" "$LAB_CACHE/build"

log() { printf '[lab build] %s\n' "$*" >&2; }

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

k8s_minor() { echo "$K8S_VERSION" | cut -d. -f2; }

# The k8s.io/kubernetes root module requires its staging modules at v0.0.0 and replaces them
# with ./staging paths, which only works inside the kubernetes repo. A wrapper module replaces
# each staging module with its published tag v0.<minor>.<patch> instead.
build_kubernetes() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler) missing=()
  # kubectl only when the machine has none.
  command -v kubectl >/dev/null || want+=(kubectl)
  for b in "${want[@]}"; do [ -x "$BIN/$b-v$K8S_VERSION" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local w="$LAB_CACHE/build/k8s-v$K8S_VERSION" staging="v0.${K8S_VERSION#1.}"
  mkdir -p "$w"
  if [ ! -f "$w/.ready" ]; then
    log "preparing wrapper module for k8s.io/kubernetes v$K8S_VERSION"
    rm -f "$w/go.mod" "$w/go.sum"
    (cd "$w" && go mod init example.invalid/kubedoctor-lab-k8s >/dev/null 2>&1)
    local gomod
    gomod=$(cd "$w" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -f "$gomod" ] || { log "could not download k8s.io/kubernetes@v$K8S_VERSION go.mod"; return 1; }
    local goline
    goline=$(sed -n 's/^go \(.*\)$/\1/p' "$gomod")
    (cd "$w" && go mod edit -go="$goline")
    # Same runtime defaults as upstream builds (TLS, x509): the wrapper's godebug line rules.
    if grep -q '^godebug ' "$gomod"; then
      grep '^godebug ' "$gomod" >>"$w/go.mod"
    fi
    local mods
    mods=$(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*#\1#p' "$gomod")
    for m in $mods; do (cd "$w" && go mod edit -replace="$m=$m@$staging"); done
    cat >"$w/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
    (cd "$w" && go get "k8s.io/kubernetes@v$K8S_VERSION" >/dev/null && go mod tidy -e >/dev/null 2>&1 || true)
    (cd "$w" && go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" >/dev/null)
    touch "$w/.ready"
  fi
  local commit
  commit=$(cd "$w" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"Hash": "\(.*\)".*/\1/p' | head -1)
  local ld="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(k8s_minor)"
    ld+=" -X $pkg.gitCommit=${commit:-unknown} -X $pkg.gitTreeState=clean"
    ld+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  for b in "${missing[@]}"; do
    log "building $b v$K8S_VERSION (cold: several minutes on 2 cores)"
    local t0=$SECONDS
    # Adds the go.sum entries of this command's packages (kubectl's are not among the
    # server components' when the wrapper was prepared without it).
    (cd "$w" && go get "k8s.io/kubernetes/cmd/$b@v$K8S_VERSION" >/dev/null 2>&1)
    (cd "$w" && go build -trimpath -ldflags "-s -w$ld" -o "$BIN/.$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$BIN/.$b.tmp" "$BIN/$b-v$K8S_VERSION"
    log "built $b in $((SECONDS - t0))s"
  done
}

# etcd's server module has relative replace lines, so `go install` refuses it; as a dependency
# of a wrapper module its tagged requires are used instead.
build_etcd() {
  [ -x "$BIN/etcd-v$ETCD_VERSION" ] && return 0
  local w="$LAB_CACHE/build/etcd-v$ETCD_VERSION"
  mkdir -p "$w"
  log "building etcd v$ETCD_VERSION"
  local t0=$SECONDS
  if [ ! -f "$w/go.mod" ]; then
    (cd "$w" && go mod init example.invalid/kubedoctor-lab-etcd >/dev/null 2>&1)
    cat >"$w/tools.go" <<'EOF'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
EOF
  fi
  (cd "$w" && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null)
  (cd "$w" && go build -trimpath -ldflags "-s -w" -o "$BIN/.etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN/.etcd.tmp" "$BIN/etcd-v$ETCD_VERSION"
  log "built etcd in $((SECONDS - t0))s"
}

# kwok's go.mod has no replace lines, so a plain `go install` works. Since v0.8.0 kwok needs
# Stage objects; the lab uses upstream's own "fast" stages, copied from the module next to the
# binary so the cache is self-contained.
build_kwok() {
  local stages="$BIN/kwok-stages-v$KWOK_VERSION"
  if [ ! -x "$BIN/kwok-v$KWOK_VERSION" ]; then
    log "building kwok v$KWOK_VERSION"
    local t0=$SECONDS gobin="$LAB_CACHE/build/kwok-v$KWOK_VERSION"
    mkdir -p "$gobin"
    GOBIN="$gobin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
    mv "$gobin/kwok" "$BIN/kwok-v$KWOK_VERSION"
    log "built kwok in $((SECONDS - t0))s"
  fi
  if [ ! -f "$stages/.ready" ]; then
    local dir
    dir=$(cd "$LAB_CACHE/build" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    [ -d "$dir/kustomize/stage" ] || { log "kwok v$KWOK_VERSION module has no kustomize/stage"; return 1; }
    mkdir -p "$stages"
    cp "$dir"/kustomize/stage/node/fast/node-initialize.yaml "$dir"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
      "$dir"/kustomize/stage/pod/fast/pod-*.yaml "$stages/"
    chmod u+w "$stages"/*.yaml
    touch "$stages/.ready"
  fi
}

# prometheus-operator's go.mod replaces its own submodules (pkg/apis/monitoring, pkg/client)
# with relative paths, so `go install` refuses it; as a dependency of a wrapper module the
# tagged requires (the same v0.x.y) are used. Stamped like upstream's Makefile does.
build_prometheus_operator() {
  local v=$PROMETHEUS_OPERATOR_VERSION
  [ -x "$BIN/prometheus-operator-v$v" ] && return 0
  local w="$LAB_CACHE/build/prometheus-operator-v$v"
  mkdir -p "$w"
  log "building prometheus-operator v$v"
  local t0=$SECONDS
  if [ ! -f "$w/go.mod" ]; then
    (cd "$w" && go mod init example.invalid/kubedoctor-lab-prometheus-operator >/dev/null 2>&1)
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus-operator/prometheus-operator/cmd/operator"\n' >"$w/tools.go"
  fi
  (cd "$w" && go get "github.com/prometheus-operator/prometheus-operator/cmd/operator@v$v" >/dev/null)
  local pc=github.com/prometheus/common/version
  (cd "$w" && go build -trimpath \
    -ldflags "-s -w -X $pc.Version=$v -X $pc.Revision=v$v -X $pc.Branch=HEAD -X $pc.BuildUser=kube-doctor-lab -X $pc.BuildDate=19700101-00:00:00" \
    -o "$BIN/.prometheus-operator.tmp" github.com/prometheus-operator/prometheus-operator/cmd/operator)
  mv "$BIN/.prometheus-operator.tmp" "$BIN/prometheus-operator-v$v"
  log "built prometheus-operator in $((SECONDS - t0))s"
}

# Prometheus from its Go module (tag v3.Y.Z is module version v0.3YY.Z). Its go.mod has
# exclude and replace lines, so `go install` refuses it; a wrapper module requires it and keeps
# upstream's one replace (fsnotify). Built without the web UI's assets (the API is all the lab
# uses; the UI is compiled by npm in upstream's release process).
build_prometheus() {
  local v=$KPS_PROMETHEUS_VERSION
  [ -x "$BIN/prometheus-v$v" ] && return 0
  local minor=${v#*.} mod
  mod="v0.$(printf '%d%02d' "${v%%.*}" "${minor%%.*}").${v##*.}"
  local w="$LAB_CACHE/build/prometheus-v$v"
  mkdir -p "$w"
  log "building prometheus v$v (module $mod)"
  local t0=$SECONDS
  if [ ! -f "$w/go.mod" ]; then
    (cd "$w" && go mod init example.invalid/kubedoctor-lab-prometheus >/dev/null 2>&1)
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/prometheus"\n' >"$w/tools.go"
    (cd "$w" && go mod edit -replace=github.com/fsnotify/fsnotify@v1.8.0=github.com/fsnotify/fsnotify@v1.7.0)
  fi
  (cd "$w" && go get "github.com/prometheus/prometheus/cmd/prometheus@$mod" >/dev/null)
  local pc=github.com/prometheus/common/version
  (cd "$w" && go build -trimpath \
    -ldflags "-s -w -X $pc.Version=$v -X $pc.Revision=v$v -X $pc.Branch=HEAD -X $pc.BuildUser=kube-doctor-lab -X $pc.BuildDate=19700101-00:00:00" \
    -o "$BIN/.prometheus.tmp" github.com/prometheus/prometheus/cmd/prometheus)
  mv "$BIN/.prometheus.tmp" "$BIN/prometheus-v$v"
  log "built prometheus in $((SECONDS - t0))s"
}

# helm renders the kube-prometheus-stack chart. Plain `go install` into its own GOBIN, then
# renamed: the packaging scripts build the very same binary at the same path, so whichever
# runs first serves both.
build_helm() {
  local v=$HELM_VERSION
  [ -x "$BIN/helm-v$v" ] && return 0
  log "building helm v$v"
  local t0=$SECONDS gobin="$LAB_CACHE/build/helm-v$v"
  mkdir -p "$gobin"
  GOBIN="$gobin" go install "helm.sh/helm/v3/cmd/helm@v$v"
  mv "$gobin/helm" "$BIN/helm-v$v"
  log "built helm in $((SECONDS - t0))s"
}

# The lab's own Go programs (client-go workload, webhooks, network path, log capture, the
# kubelet and config-reloader stand-ins), in a directory keyed by a hash of their sources.
LAB_GO_CMDS="lab-clientgo lab-webhook lab-proxy lab-run lab-scale lab-kubelet lab-config-reloader"
build_lab_go() {
  local c missing=0 sum dir
  sum=$(cd "$LAB_DIR/go" && find . -name '*.go' -print0 | sort -z | xargs -0 cat go.mod go.sum | sha256sum | cut -c1-12)
  dir="$BIN/lab-go-$sum"
  for c in $LAB_GO_CMDS; do [ -x "$dir/$c" ] || missing=1; done
  if [ $missing -eq 1 ]; then
    log "building lab Go programs ($sum)"
    local t0=$SECONDS
    mkdir -p "$dir"
    for c in $LAB_GO_CMDS; do
      [ -x "$dir/$c" ] && continue
      (cd "$LAB_DIR/go" && go build -trimpath -o "$dir/.$c.tmp" "./cmd/$c")
      mv "$dir/.$c.tmp" "$dir/$c"
    done
    log "built lab Go programs in $((SECONDS - t0))s"
  fi
  # $BIN/<program> for scripts outside lab/ (bench/): the last checkout built wins there.
  for c in $LAB_GO_CMDS; do ln -sfn "lab-go-$sum/$c" "$BIN/$c"; done
}

build_all() {
  build_etcd
  build_kwok
  build_kubernetes
  build_lab_go
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-all}" in
    all) build_all ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    kubernetes) build_kubernetes ;;
    lab-go) build_lab_go ;;
    prometheus-operator) build_prometheus_operator ;;
    helm) build_helm ;;
    prometheus) build_prometheus ;;
    kube-prometheus-stack) build_prometheus_operator; build_helm; build_prometheus ;;
    *) echo "usage: lab/lib/build.sh [all|etcd|kwok|kubernetes|lab-go|prometheus-operator|helm|prometheus|kube-prometheus-stack]" >&2; exit 2 ;;
  esac
fi
