# Shared settings of the Prometheus access test components (lab/prom-access/*). Sourced, never
# run. Reads the lab's own settings (lab/lib/common.sh: LAB_STATE, ports, PKI paths) without
# changing anything of the lab; everything started here lives under $LAB_STATE/prom-access and
# is stopped by lab/prom-access/down (lab/down's removal of $LAB_STATE takes it too).

PA_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=${LAB_DIR:-$(cd "$PA_HERE/.." && pwd)}
# shellcheck source=../lib/common.sh
. "$LAB_DIR/lib/common.sh"

# Pinned versions (the cache key of each binary).
KUBE_RBAC_PROXY_VERSION=v0.21.0
KUBE_RBAC_PROXY_COMMIT=898a9f44
PROM_LABEL_PROXY_VERSION=v0.11.1

PA_STATE="$LAB_STATE/prom-access"
PA_RUN="$PA_STATE/run"
PA_LOGS="$PA_STATE/logs"

# Ports, all overridable: kube-rbac-proxy (HTTPS, bearer token checked against the lab API
# server), prom-label-proxy (tenant label enforced), the second Prometheus ("fleet": the lab's
# API server under several job names and two clusters), the forwarder the API server's
# service proxy reaches the lab Prometheus through.
PA_RBAC_PROXY_PORT=${LAB_PA_RBAC_PROXY_PORT:-19443}
PA_LABEL_PROXY_PORT=${LAB_PA_LABEL_PROXY_PORT:-19094}
PA_FLEET_PROM_PORT=${LAB_PA_FLEET_PROM_PORT:-19095}
PA_SVC_PORT=${LAB_PA_SVC_PORT:-19096}
# The namespace of the Services that make Prometheus reachable through the API server.
PA_NS=${LAB_PA_NS:-monitoring}

pa_log() { printf '[prom-access] %s\n' "$*" >&2; }
pa_die() { printf '[prom-access] error: %s\n' "$*" >&2; exit 1; }

# ../shared beside the repository (CI lays it there), or SHARED_DIR.
shared_dir() {
  local d
  for d in "${SHARED_DIR:-}" "$LAB_DIR/../../shared" "$LAB_DIR/../../../shared" /work/shared; do
    [ -n "$d" ] && [ -d "$d/vendor" ] && { (cd "$d" && pwd); return 0; }
  done
  pa_die "cannot find ../shared/vendor (set SHARED_DIR)"
}

# This machine's own non-loopback IPv4 address. The API server refuses to proxy to loopback
# addresses and EndpointSlices may not hold them, so the service proxy reaches Prometheus
# through a forwarder bound to this address (traffic to one's own address never leaves the
# machine). Override with LAB_PA_HOST_IP.
pa_host_ip() {
  if [ -n "${LAB_PA_HOST_IP:-}" ]; then echo "$LAB_PA_HOST_IP"; return 0; fi
  local ip
  ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)
  [ -n "$ip" ] || pa_die "this machine has no non-loopback IPv4 address for the service proxy (set LAB_PA_HOST_IP)"
  echo "$ip"
}

pa_pid_of() { [ -f "$PA_RUN/$1.pid" ] && cat "$PA_RUN/$1.pid"; }
pa_running() {
  local pid
  pid=$(pa_pid_of "$1") || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# pa_start NAME CMD...: run a component in the background, detached, logging to $PA_LOGS.
pa_start() {
  local name=$1; shift
  if pa_running "$name"; then return 0; fi
  mkdir -p "$PA_RUN" "$PA_LOGS"
  setsid nohup "$@" >>"$PA_LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PA_RUN/$name.pid"
}

pa_stop() {
  local name=$1 pid
  pid=$(pa_pid_of "$name") || return 0
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PA_RUN/$name.pid"
}
