#!/usr/bin/env bash
# Runs `kube-doctor serve` on the lab exactly as the chart's pod would run it: the image's own
# root file system (read-only), user 65532, the chart's Deployment's arguments, the chart's
# ServiceAccount with a token from TokenRequest and the cluster CA at the in-cluster paths,
# KUBERNETES_SERVICE_HOST/PORT and nothing else in the environment. A private mount namespace
# (unshare -m) and chroot stand in for the container runtime; the network is the machine's, so
# the lab's Alertmanager reaches serve at LAB_ALERT_WEBHOOK_URL.
#
#   eval "$(lab/env)"; scripts/serve-incluster.sh start STATE_DIR    (as root)
#   scripts/serve-incluster.sh stop STATE_DIR
#
# start installs the chart as release kd-incluster in namespace kd-incluster (token Secret =
# the lab's serve token, which the lab's Alertmanager sends), starts serve, waits for /readyz,
# and leaves in STATE_DIR: base-url, alert-token, sa-user, pid, serve.log, args. stop ends serve
# and uninstalls. Needs target/image/rootfs (scripts/build-image.sh) and helm (scripts/go-tool.sh helm).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RELEASE=kd-incluster
NS=kd-incluster
FULLNAME=$RELEASE-kube-doctor
say() { printf '[incluster] %s\n' "$*" >&2; }
die() { printf '[incluster] error: %s\n' "$*" >&2; exit 1; }

mode=${1:-}; STATE=${2:-}
if [ -z "$STATE" ] || { [ "$mode" != start ] && [ "$mode" != stop ]; }; then
  die "usage: scripts/serve-incluster.sh start|stop STATE_DIR"
fi
for v in LAB_ADMIN_KUBECONFIG LAB_KUBECTL PROMETHEUS_URL LAB_SERVE_TOKEN_FILE LAB_ALERT_WEBHOOK_URL LAB_STATE; do
  [ -n "${!v:-}" ] || die "$v is not set: eval \"\$(lab/env)\" first"
done
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
k() { "$LAB_KUBECTL" --kubeconfig "$LAB_ADMIN_KUBECONFIG" "$@"; }
HELM=$("$REPO/scripts/go-tool.sh" helm)
ROOT=$STATE/rootfs

stop() {
  if [ -s "$STATE/pid" ]; then
    local pid; pid=$(cat "$STATE/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/pid"
  fi
  "$HELM" uninstall "$RELEASE" --namespace "$NS" --kubeconfig "$LAB_ADMIN_KUBECONFIG" >/dev/null 2>&1 || true
  k delete namespace "$NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  # The mounts lived in serve's own mount namespace and went with it; never delete through one.
  if [ -d "$ROOT" ] && ! findmnt -rn -o TARGET | grep -qF "$ROOT"; then rm -rf "$ROOT"; fi
  rm -rf "$STATE/volumes" "$STATE/alert-token"   # copies of the token and the Secrets
}
if [ "$mode" = stop ]; then stop; exit 0; fi

[ "$(id -u)" = 0 ] || die "run as root (mount namespace, chroot)"
[ -x "$REPO/target/image/rootfs/usr/local/bin/kube-doctor" ] || die "no target/image/rootfs: run scripts/build-image.sh"
listen=${LAB_ALERT_WEBHOOK_URL#http://}; listen=${listen%%/*}
port=${listen##*:}
api=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
api_host=${api#https://}; api_host=${api_host%%/*}
api_port=${api_host##*:}; api_host=${api_host%:*}

say "helm install $RELEASE (namespace $NS): the chart's ServiceAccount, RBAC, Deployment"
# A namespace still terminating from an earlier run takes no new objects: wait for it to go.
if [ -n "$(k get namespace "$NS" -o 'jsonpath={.metadata.deletionTimestamp}' 2>/dev/null)" ]; then
  k wait --for=delete "namespace/$NS" --timeout=180s >/dev/null
fi
k create namespace "$NS" --dry-run=client -o yaml | k apply -f - >/dev/null
k -n "$NS" create secret generic "$RELEASE-alert-token" --from-file=token="$LAB_SERVE_TOKEN_FILE" \
  --dry-run=client -o yaml | k apply -f - >/dev/null
"$HELM" upgrade --install "$RELEASE" "$REPO/deploy/helm/kube-doctor" --namespace "$NS" \
  --kubeconfig "$LAB_ADMIN_KUBECONFIG" \
  --set token.existingSecret="$RELEASE-alert-token" \
  --set prometheus.url="$PROMETHEUS_URL" --set serve.port="$port" \
  --set serve.logLevel=kube_doctor=info >/dev/null

# What the pod would get: the Deployment's args, env and mounts, as the API server has them.
k -n "$NS" get deployment "$FULLNAME" -o json >"$STATE/deployment.json"
python3 - "$STATE" <<'EOF'
import json, sys
state = sys.argv[1]
d = json.load(open(f"{state}/deployment.json"))
pod = d["spec"]["template"]["spec"]
c = pod["containers"][0]
# The one change: listen on loopback, not on every address of this machine.
args = [a.replace("--listen=0.0.0.0:", "--listen=127.0.0.1:") for a in c["args"]]
open(f"{state}/args", "w").write("\0".join(args))
open(f"{state}/env", "w").write("\0".join(f"{e['name']}={e['value']}" for e in c.get("env", []) if "value" in e))
mounts = {v["name"]: v for v in pod["volumes"]}
lines = []
for m in c["volumeMounts"]:
    secret = mounts[m["name"]]["secret"]
    lines.append(f"{m['mountPath']} {secret['secretName']} {' '.join(i['key'] for i in secret['items'])}")
open(f"{state}/mounts", "w").write("\n".join(lines) + "\n")
print(pod["serviceAccountName"], file=open(f"{state}/sa", "w"))
EOF
sa=$(cat "$STATE/sa")
echo "system:serviceaccount:$NS:$sa" >"$STATE/sa-user"

say "the pod's file system: the image's rootfs, the ServiceAccount token (TokenRequest), the Secrets"
rm -rf "$ROOT" "$STATE/volumes"
cp -a "$REPO/target/image/rootfs" "$ROOT"
sadir=$STATE/volumes/serviceaccount
mkdir -p "$sadir"
k -n "$NS" create token "$sa" --duration=2h >"$sadir/token"
cp "$LAB_STATE/pki/ca.crt" "$sadir/ca.crt"
printf '%s' "$NS" >"$sadir/namespace"
mkdir -p "$ROOT/var/run/secrets/kubernetes.io/serviceaccount" "$ROOT/proc" "$ROOT/dev"
binds=("$sadir" "/var/run/secrets/kubernetes.io/serviceaccount")
i=0
while read -r path secret keys; do
  [ -n "$path" ] || continue
  i=$((i + 1)); dir=$STATE/volumes/secret-$i; mkdir -p "$dir" "$ROOT$path"
  for key in $keys; do
    k -n "$NS" get secret "$secret" -o "jsonpath={.data.$key}" | base64 -d >"$dir/$key"
  done
  binds+=("$dir" "$path")
done <"$STATE/mounts"
chmod -R a+rX,go-w "$STATE/volumes"
grep -q . "$STATE/volumes/secret-1/"* || die "the token Secret is empty"
cp "$LAB_SERVE_TOKEN_FILE" "$STATE/alert-token"

say "starting serve as 65532 in a private mount namespace, root file system read-only"
env_args=()
while IFS= read -r -d '' e; do [ -z "$e" ] || env_args+=("$e"); done < <(cat "$STATE/env"; printf '\0')
mapfile -d '' args <"$STATE/args"
# shellcheck disable=SC2016 # the inner script expands its own arguments
setsid unshare --mount --propagation private bash -c '
  set -e
  root=$1; shift
  nb=$1; shift
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
  for d in null zero random urandom; do touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"; done
  while [ "$nb" -gt 0 ]; do
    mount --bind "$1" "$root$2"; mount -o remount,bind,ro "$root$2"; shift 2; nb=$((nb - 1))
  done
  mount -o remount,bind,ro "$root"
  exec "$@"
' incluster "$ROOT" $((${#binds[@]} / 2)) "${binds[@]}" \
  /usr/bin/env -i HOSTNAME="$FULLNAME-0" \
  KUBERNETES_SERVICE_HOST="$api_host" KUBERNETES_SERVICE_PORT="$api_port" KUBERNETES_SERVICE_PORT_HTTPS="$api_port" \
  "${env_args[@]}" \
  /usr/sbin/chroot --userspec=65532:65532 "$ROOT" /usr/local/bin/kube-doctor "${args[@]}" \
  >"$STATE/serve.log" 2>&1 </dev/null &
echo $! >"$STATE/pid"
echo "http://$listen" >"$STATE/base-url"
for _ in $(seq 1 60); do
  if curl -fsS "http://$listen/readyz" >/dev/null 2>&1; then
    say "serve is ready at http://$listen (pid $(cat "$STATE/pid")), as $(cat "$STATE/sa-user")"
    exit 0
  fi
  kill -0 "$(cat "$STATE/pid")" 2>/dev/null || { cat "$STATE/serve.log" >&2; die "serve exited"; }
  sleep 0.5
done
cat "$STATE/serve.log" >&2
die "serve did not become ready at http://$listen within 30 s"
