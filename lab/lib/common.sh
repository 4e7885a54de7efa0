# Shared settings and helpers of the lab commands. Sourced, never run.
# Everything listens on 127.0.0.1 (client pods on their KWOK pod IPs in $LAB_POD_CIDR,
# default 127.0.1.0/24).

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=../versions.env
. "$LAB_DIR/versions.env"
LAB_CACHE=${LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-doctor-lab}
LAB_STATE=${LAB_STATE:-${TMPDIR:-/tmp}/kube-doctor-lab}
BIN="$LAB_CACHE/bin"
# The lab's own Go programs, built from this checkout's lab/go into a directory named by a hash
# of those sources (lab/lib/build.sh), so labs run from different checkouts on one machine never
# run each other's versions.
# A running lab keeps using the ones it started with (mode.env records them), even when lab/go
# changes under it.
lab_go_hash() { (cd "$LAB_DIR/go" && find . -name '*.go' -print0 | sort -z | xargs -0 cat go.mod go.sum | sha256sum | cut -c1-12); }
LGO=${LAB_GO_DIR:-$BIN/lab-go-$(lab_go_hash)}

# The lab's shape. lab/up records the shape it started in $LAB_STATE/mode.env; every other
# command (env, fault, down, scale) reads it from there, so they need only LAB_STATE.
#   LAB_MONITORING  plain (default): Debian's Prometheus with the lab's hand-written scrape
#                   configuration (jobs kube-apiserver, kube-controller-manager,
#                   kube-scheduler, etcd, demo-clients) and deploy/prometheus's rules;
#                   kube-prometheus-stack: the chart's operator, CRs, ServiceMonitors and rules.
#   LAB_APISERVERS  1 (default) or 3 kube-apiservers on the one etcd; with 3, behind HAProxy.
#   LAB_MANAGED     1: a managed control plane as EKS/GKE/AKS show it: no control-plane pods,
#                   Prometheus does not scrape the API server (nor controller-manager,
#                   scheduler, etcd), and kube-doctor's role may not GET /metrics.
if [ -f "$LAB_STATE/mode.env" ]; then
  LAB_REQUESTED_MODE="${LAB_MONITORING:-}|${LAB_APISERVERS:-}|${LAB_MANAGED:-}"
  # shellcheck source=/dev/null
  . "$LAB_STATE/mode.env"
fi
[ -n "${LAB_GO_DIR:-}" ] && LGO=$LAB_GO_DIR
LAB_MONITORING=${LAB_MONITORING:-plain}
LAB_APISERVERS=${LAB_APISERVERS:-1}
LAB_MANAGED=${LAB_MANAGED:-0}

# Ports (override any of them in the environment).
ETCD_PORT=${LAB_ETCD_PORT:-23790}
ETCD_PEER_PORT=${LAB_ETCD_PEER_PORT:-23800}
ETCD_METRICS_PORT=${LAB_ETCD_METRICS_PORT:-23810}
APISERVER_PORT=${LAB_APISERVER_PORT:-16443}
KCM_PORT=${LAB_KCM_PORT:-17257}
SCHEDULER_PORT=${LAB_SCHEDULER_PORT:-17259}
KWOK_PORT=${LAB_KWOK_PORT:-17247}
WEBHOOK_PORT=${LAB_WEBHOOK_PORT:-17443}
KUBERS_PROXY_PORT=${LAB_KUBERS_PROXY_PORT:-18444}
PROMETHEUS_PORT=${LAB_PROMETHEUS_PORT:-19090}
ALERTMANAGER_PORT=${LAB_ALERTMANAGER_PORT:-19093}
# On the pods' own IPs (unique to each lab), so fixed by default.
CLIENTGO_METRICS_PORT=${LAB_CLIENTGO_METRICS_PORT:-18081}
KUBERS_METRICS_PORT=${LAB_KUBERS_METRICS_PORT:-18082}
PYTHON_METRICS_PORT=${LAB_PYTHON_METRICS_PORT:-18083}
# KWOK's pod IPs (a second lab on one machine needs its own range, ports and LAB_STATE).
POD_CIDR=${LAB_POD_CIDR:-127.0.1.0/24}

# Network. The plain single-API-server lab (the default) lives on 127.0.0.1 and 127.0.x.y pod
# IPs. Everything else needs addresses the API server accepts in Endpoints and EndpointSlices
# (it refuses 127.0.0.0/8): the `kubernetes` Service's slices list the API servers, Services
# select pods. Then the lab adds a /24 of RFC 2544 benchmark addresses (198.18.0.0/15, never
# routed) as a local route on lo - "the lab's host network" - and puts each control-plane node
# (and so its API server, controller-manager, scheduler, etcd and kubelet stand-in), the load
# balancer, the KWOK node and the pods on addresses in it. Its third octet is LAB_POD_CIDR's,
# so two labs that differ in LAB_POD_CIDR differ here too; override with LAB_NET.
if [ "$LAB_MONITORING" = plain ] && [ "$LAB_APISERVERS" = 1 ] && [ "$LAB_MANAGED" = 0 ]; then
  LAB_NETWORK=loopback
else
  LAB_NETWORK=host
fi
LAB_NET=${LAB_NET:-198.18.$(echo "$POD_CIDR" | cut -d. -f3).0/24}
NET_PREFIX=$(echo "${LAB_NET%/*}" | cut -d. -f1-3)
LB_IP=$NET_PREFIX.2
KWOK_NODE_IP=127.0.0.1
CONTROL_PLANE_PODS=0
if [ "$LAB_NETWORK" = host ]; then
  POD_CIDR=$NET_PREFIX.128/25
  KWOK_NODE_IP=$NET_PREFIX.20
  [ "$LAB_MANAGED" = 1 ] || CONTROL_PLANE_PODS=1
fi
# The kubelet stand-in's port on each control-plane node (on the node's own address).
KUBELET_PORT=${LAB_KUBELET_PORT:-10250}
# Control-plane node I (0-based, as the API server instances and lab/fault --instance): its
# name and address.
cp_node() { echo "lab-control-plane-$1"; }
cp_ip() { echo "$NET_PREFIX.$((10 + $1))"; }
# Where the controller-manager, scheduler and etcd's metrics listen: node 0.
CP_HOST=127.0.0.1
[ "$LAB_NETWORK" = host ] && CP_HOST=$(cp_ip 0)
# How long KubeClientErrors must hold before it fires (upstream: 15m).
LAB_ALERT_FOR=${LAB_ALERT_FOR:-1m}
# Alertmanager's repeat_interval: how often a still-firing alert is sent again (upstream 4h+).
LAB_ALERT_REPEAT=${LAB_ALERT_REPEAT:-1m}
# Where Alertmanager posts alerts (kube-doctor serve, by default): LAB_SERVE_PORT follows the
# other port overrides, so a second lab's Alertmanager does not post to the first lab's serve.
LAB_SERVE_PORT=${LAB_SERVE_PORT:-17080}
LAB_ALERT_WEBHOOK_URL=${LAB_ALERT_WEBHOOK_URL:-http://127.0.0.1:$LAB_SERVE_PORT/api/alerts}

# What clients use: the one API server, or the load balancer in front of three.
APISERVER_HOST=127.0.0.1
if [ "$LAB_NETWORK" = host ]; then
  if [ "$LAB_APISERVERS" -gt 1 ]; then APISERVER_HOST=$LB_IP; else APISERVER_HOST=$(cp_ip 0); fi
fi
APISERVER_URL="https://$APISERVER_HOST:$APISERVER_PORT"
PKI="$LAB_STATE/pki"
KCFG="$LAB_STATE/kubeconfig"
LOGS="$LAB_STATE/logs"
RUN="$LAB_STATE/run"
PODLOGS="$LAB_STATE/podlogs"
NS=demo

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# kubectl: the one on PATH, else the one lab/lib/build.sh builds at the lab's version.
lab_kubectl() {
  command -v kubectl || echo "$LAB_CACHE/bin/kubectl-v$K8S_VERSION"
}
kc() { "$(lab_kubectl)" --kubeconfig "$KCFG/admin.kubeconfig" "$@"; }

# Wait until a command succeeds, or fail naming what was awaited.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
is_running() {
  local pid
  pid=$(pid_of "$1") || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# start NAME LOGFILE CMD...: run a component in the background, detached from this shell.
start() {
  local name=$1 logfile=$2; shift 2
  if is_running "$name"; then return 0; fi
  mkdir -p "$RUN" "$(dirname "$logfile")"
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

stop() {
  local name=$1 pid
  pid=$(pid_of "$name") || return 0
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

# stop_all NAME...: stop several lab processes at once: SIGTERM to each process group, up to
# 5 s for all of them together, then SIGKILL to what is left (one at a time, these waits add
# up to half a minute per lab/down).
stop_all() {
  local name pid pids=() _
  for name in "$@"; do
    pid=$(pid_of "$name") || continue
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
    [ $alive = 1 ] || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
  for name in "$@"; do rm -f "$RUN/$name.pid"; done
}
