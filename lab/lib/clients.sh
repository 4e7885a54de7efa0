# The three client workloads: real processes (client-go, kube-rs, Python) talking to the lab
# API server all the time, each represented in the cluster as a Pod on a KWOK node in
# namespace demo, with its ServiceAccount, its credential Secret and its log file served as
# the pod's container log. Sourced by lab/up and lab/fault.

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=pki.sh
. "$(dirname "${BASH_SOURCE[0]}")/pki.sh"

CLIENTS="clientgo kubers python"
CLIENTS_DIR="$LAB_STATE/clients"
PY_VENV="$LAB_CACHE/venv-kubernetes-$PY_KUBERNETES_VERSION"
# This checkout's kube-rs client (not a shared path: another checkout's lab may run its own).
KUBERS_BIN="${CARGO_TARGET_DIR:-$LAB_DIR/../target}/debug/lab-kubers-client"

client_pod() { echo "demo-$1"; }
client_port() {
  case $1 in
    clientgo) echo "$CLIENTGO_METRICS_PORT" ;;
    kubers) echo "$KUBERS_METRICS_PORT" ;;
    python) echo "$PYTHON_METRICS_PORT" ;;
  esac
}

ensure_python_env() {
  [ -x "$PY_VENV/bin/python" ] && "$PY_VENV/bin/python" -c 'import kubernetes, prometheus_client' 2>/dev/null && return 0
  log "creating Python venv with kubernetes==$PY_KUBERNETES_VERSION"
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install -q "kubernetes==$PY_KUBERNETES_VERSION" "prometheus_client>=0.20"
}

ensure_kubers_binary() {
  [ -x "$KUBERS_BIN" ] || log "building the lab's kube-rs client (cargo, the tests' profile: minutes in a new checkout)"
  (cd "$LAB_DIR/.." && cargo build -q -p lab-kubers-client) || die "could not build the kube-rs client"
}

# Inline (self-contained) kubeconfig with a token: what a Secret holds.
inline_token_kubeconfig() {
  local user=$1 token=$2 server=$3
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
    token: $token
contexts:
- name: lab
  context: {cluster: lab, user: $user, namespace: $NS}
current-context: lab
EOF
}

# Mints a bound ServiceAccount token and stores the client's kubeconfig on disk and in its
# Secret (the pod mounts the Secret, as it would in a real cluster).
issue_token_kubeconfig() {
  local client=$1 sa=$2 server=$3
  local token
  token=$(kc create token "$sa" -n "$NS" --duration=24h) || die "could not mint a token for $sa"
  mkdir -p "$CLIENTS_DIR/$client"
  inline_token_kubeconfig "system:serviceaccount:$NS:$sa" "$token" "$server" >"$CLIENTS_DIR/$client/kubeconfig"
  chmod 600 "$CLIENTS_DIR/$client/kubeconfig"
  kc -n "$NS" create secret generic "$client-kubeconfig" \
    --from-file=kubeconfig="$CLIENTS_DIR/$client/kubeconfig" --dry-run=client -o yaml | kc apply -f - >/dev/null
}

# The client-go client authenticates with an x509 certificate; its Secret holds the
# certificate only, never the key. CERT names a certificate of the lab PKI.
install_clientgo_cert() {
  local cert=${1:-demo-clientgo}
  mkdir -p "$CLIENTS_DIR/clientgo"
  cp "$PKI/$cert.crt" "$CLIENTS_DIR/clientgo/tls.crt"
  cp "$PKI/$cert.key" "$CLIENTS_DIR/clientgo/tls.key"
  chmod 600 "$CLIENTS_DIR/clientgo/tls.key"
  cat >"$CLIENTS_DIR/clientgo/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: $APISERVER_URL, certificate-authority: $PKI/ca.crt}
users:
- name: demo-clientgo
  user: {client-certificate: $CLIENTS_DIR/clientgo/tls.crt, client-key: $CLIENTS_DIR/clientgo/tls.key}
contexts:
- name: lab
  context: {cluster: lab, user: demo-clientgo, namespace: $NS}
current-context: lab
EOF
  kc -n "$NS" create secret generic clientgo-client-cert \
    --from-file=tls.crt="$CLIENTS_DIR/clientgo/tls.crt" --dry-run=client -o yaml | kc apply -f - >/dev/null
}

apply_client_pods() {
  local c pod sa secret extra
  for c in $CLIENTS; do
    pod=$(client_pod "$c")
    case $c in
      clientgo) sa=clientgo; secret=clientgo-client-cert; extra="" ;;
      kubers) sa=kubers-client; secret=kubers-kubeconfig
        extra="
  - name: planted
    secret: {secretName: planted-secret}" ;;
      python) sa=python-client; secret=python-kubeconfig; extra="" ;;
    esac
    local mounts="        - {name: credentials, mountPath: /var/run/secrets/lab/credentials, readOnly: true}"
    [ "$c" = kubers ] && mounts="$mounts
        - {name: planted, mountPath: /var/run/secrets/lab/planted, readOnly: true}"
    kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: $NS
  labels: {app: $pod, app.kubernetes.io/name: $pod, lab.kube-doctor.io/client: $c}
spec:
  serviceAccountName: $sa
  automountServiceAccountToken: false
  nodeSelector: {type: kwok}
  containers:
  - name: $c
    image: lab.invalid/$c:latest
    ports: [{name: metrics, containerPort: $(client_port "$c")}]
    volumeMounts:
$mounts
  volumes:
  - name: credentials
    secret: {secretName: $secret}$extra
EOF
  done
}

pod_ip() { kc -n "$NS" get pod "$1" -o jsonpath='{.status.podIP}' 2>/dev/null; }
pod_has_ip() { [ -n "$(pod_ip "$1")" ]; }

wait_client_pods() {
  local c
  for c in $CLIENTS; do
    wait_for "pod $(client_pod "$c") to get an IP" 90 pod_has_ip "$(client_pod "$c")" || return 1
  done
}

# start_client NAME: (re)start the client's process under lab-run, writing the pod's log.
start_client() {
  local c=$1 pod ip dir
  pod=$(client_pod "$c")
  ip=$(pod_ip "$pod")
  [ -n "$ip" ] || die "pod $pod has no IP yet"
  dir="$PODLOGS/$pod"
  mkdir -p "$dir"
  local cmd
  case $c in
    clientgo) cmd=("$LGO/lab-clientgo" --kubeconfig "$CLIENTS_DIR/clientgo/kubeconfig" --namespace "$NS" --metrics-addr "$ip:$CLIENTGO_METRICS_PORT") ;;
    kubers) cmd=("$KUBERS_BIN" --kubeconfig "$CLIENTS_DIR/kubers/kubeconfig" --namespace "$NS" --metrics-addr "$ip:$KUBERS_METRICS_PORT") ;;
    python) cmd=("$PY_VENV/bin/python" -u "$LAB_DIR/python/lab_python_client.py" --kubeconfig "$CLIENTS_DIR/python/kubeconfig" --namespace "$NS" --metrics-addr "$ip:$PYTHON_METRICS_PORT") ;;
  esac
  start "client-$c" "$LOGS/client-$c.runner.log" "$LGO/lab-run" --log "$dir/current.log" -- "${cmd[@]}"
}

# restart_client NAME: what a container restart does to its log: the current log becomes the
# previous instance's, and a new one starts.
restart_client() {
  local c=$1 dir
  dir="$PODLOGS/$(client_pod "$c")"
  stop "client-$c"
  [ -f "$dir/current.log" ] && mv "$dir/current.log" "$dir/previous.log"
  start_client "$c"
}

client_metrics_url() { echo "http://$(pod_ip "$(client_pod "$1")"):$(client_port "$1")/metrics"; }
