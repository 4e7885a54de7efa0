# The control plane as kubeadm lays it out, used whenever the lab runs on its host network
# (LAB_NETWORK=host: kube-prometheus-stack monitoring, several API servers, or the managed
# mode): control-plane nodes at their own addresses, LAB_APISERVERS kube-apiservers (one per
# node) on the one etcd, HAProxy in front of them when there are several, and - unless
# LAB_MANAGED=1 - kubeadm's static pods (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd) shown as mirror pods whose status follows the real processes
# (lab-kubelet, one per node). Sourced by lab/up, lab/fault and lab/down.

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The lab's host network: LAB_NET as a local route on lo, so every address in it is this
# machine's (bind and connect work as for 127.0.0.0/8).
setup_host_network() {
  ip route show table local | grep -q "^local $LAB_NET dev lo" && return 0
  as_root ip route replace local "$LAB_NET" dev lo table local ||
    die "could not add the lab's addresses $LAB_NET to lo (needs root or sudo: ip route replace local $LAB_NET dev lo table local)"
}

teardown_host_network() {
  ip route show table local | grep -q "^local $LAB_NET dev lo" || return 0
  as_root ip route del local "$LAB_NET" dev lo table local 2>/dev/null || true
}

# Pod log directory of a mirror pod (lab-run writes current.log, previous.log and exit there).
cp_pod_dir() { echo "$PODLOGS/$1-$(cp_node "$2")"; }

# start_cp NAME COMPONENT NODE CMD...: start one control-plane process under lab-run, whose CRI
# log is its static pod's container log. A new process after an old one keeps the old log as
# previous.log, as the kubelet keeps the last container's. The process runs with its node's
# host name (its own UTS namespace): an API server's identity (its Lease in kube-system) is
# derived from the host name, and three on one host would otherwise share one.
start_cp() {
  local name=$1 component=$2 node=$3; shift 3
  is_running "$name" && return 0
  local dir uts=(unshare --uts)
  dir=$(cp_pod_dir "$component" "$node")
  mkdir -p "$dir"
  [ -s "$dir/current.log" ] && mv "$dir/current.log" "$dir/previous.log"
  [ "$(id -u)" -eq 0 ] || uts=(unshare --user --map-root-user --uts)
  start "$name" "$LOGS/$name.runner.log" "${uts[@]}" -- /bin/sh -c 'hostname "$1" && shift && exec "$@"' sh "$(cp_node "$node")" \
    "$LGO/lab-run" --log "$dir/current.log" --exit "$dir/exit" -- "$@"
}

# Last lines of a control-plane process's log, for error messages.
cp_log_tail() { tail -n "${3:-20}" "$(cp_pod_dir "$1" "$2")/current.log" 2>/dev/null || true; }

# static_pod NODE COMPONENT PIDNAME CPU PROBE-JSON ANNOTATIONS-JSON CMD...: kubeadm's static pod
# manifest for a component, with the real command line the lab runs, in the node's manifests
# directory (lab-kubelet turns it into the mirror pod). JSON is YAML, and the mirror pod is
# the same either way.
static_pod() {
  [ "$CONTROL_PLANE_PODS" = 1 ] || return 0
  local node=$1 component=$2 pidname=$3 cpu=$4 probes=$5 annotations=$6; shift 6
  local dir
  dir="$LAB_STATE/nodes/$(cp_node "$node")/manifests"
  mkdir -p "$dir"
  COMPONENT=$component PIDFILE="$RUN/$pidname.pid" LOGDIR=$(cp_pod_dir "$component" "$node") CPU=$cpu \
    PROBES=$probes ANNOTATIONS=$annotations IMAGE_TAG="v$K8S_VERSION" PKI_DIR="$PKI" STATE_DIR="$LAB_STATE" \
    python3 - "$@" >"$dir/.$component.json.tmp" <<'EOF'
import json, os, sys
c = os.environ["COMPONENT"]
image = {"etcd": "registry.k8s.io/etcd:3.6.5-0"}.get(c, "registry.k8s.io/%s:%s" % (c, os.environ["IMAGE_TAG"]))
ann = json.loads(os.environ["ANNOTATIONS"])
ann.update({"lab.kube-doctor.io/pidfile": os.environ["PIDFILE"], "lab.kube-doctor.io/logdir": os.environ["LOGDIR"]})
argv = sys.argv[1:]
container = {
    "name": c, "image": image, "imagePullPolicy": "IfNotPresent",
    "command": [c] + argv[1:],
    "resources": {"requests": {"cpu": os.environ["CPU"]}},
    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    "volumeMounts": [{"name": "lab-state", "mountPath": os.environ["STATE_DIR"], "readOnly": c != "etcd"}],
}
if c == "etcd":
    container["resources"]["requests"]["memory"] = "100Mi"
container.update(json.loads(os.environ["PROBES"]))
pod = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": c, "namespace": "kube-system", "labels": {"component": c, "tier": "control-plane"}, "annotations": ann},
    "spec": {
        "hostNetwork": True, "priorityClassName": "system-node-critical",
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": [{"name": "lab-state", "hostPath": {"path": os.environ["STATE_DIR"], "type": "DirectoryOrCreate"}}],
    },
}
json.dump(pod, sys.stdout, indent=2)
EOF
  mv "$dir/.$component.json.tmp" "$dir/$component.yaml"
}

# probes_json SCHEME HOST PORT LIVE READY STARTUP: kubeadm's probes as a JSON object (READY
# may be "-": kubeadm gives the controller-manager none).
probes_json() {
  python3 - "$@" <<'EOF'
import json, sys
scheme, host, port, live, ready, startup = sys.argv[1:]
get = lambda path: {"httpGet": {"host": host, "port": int(port), "scheme": scheme, "path": path}}
p = {"livenessProbe": dict(get(live), failureThreshold=8, initialDelaySeconds=10, periodSeconds=10, timeoutSeconds=15),
     "startupProbe": dict(get(startup), failureThreshold=24, initialDelaySeconds=10, periodSeconds=10, timeoutSeconds=15)}
if ready != "-":
    p["readinessProbe"] = dict(get(ready), failureThreshold=3, periodSeconds=1, timeoutSeconds=15)
print(json.dumps(p))
EOF
}

# Each API server sends this bearer token to admission webhooks (kubeconfig in its admission
# configuration), so a webhook backend can tell the three apart (apiserver-slow --instance N).
write_apiserver_admission() {
  local i=$1 dir="$LAB_STATE/apiserver-$1"
  mkdir -p "$dir"
  cat >"$dir/webhook-kubeconfig.yaml" <<EOF
apiVersion: v1
kind: Config
users:
- name: "*"
  user: {token: lab-apiserver-$i}
EOF
  cat >"$dir/admission.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $dir/webhook-kubeconfig.yaml
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $dir/webhook-kubeconfig.yaml
EOF
}

# The serving certificate of API server I: "apiserver", or "apiserver-expired" under
# apiserver-cert-expired (for that instance only with --instance).
apiserver_cert_of() { cat "$LAB_STATE/apiserver-cert.$1" 2>/dev/null || echo apiserver; }

audit_log_of() { if [ "$1" -eq 0 ]; then echo "$LOGS/audit.log"; else echo "$LOGS/audit-$1.log"; fi; }

# The API server instance I on node I, advertising the node's address: the `kubernetes`
# Service's EndpointSlice lists every running one (lease reconciler, as kubeadm runs it).
start_apiserver_instance() {
  local i=$1 ip cert
  ip=$(cp_ip "$i")
  cert=$(apiserver_cert_of "$i")
  write_audit_policy
  write_apiserver_admission "$i"
  local args=(
    "$BIN/kube-apiserver-v$K8S_VERSION"
    --advertise-address="$ip" --bind-address="$ip" --secure-port="$APISERVER_PORT"
    --etcd-servers="http://127.0.0.1:$ETCD_PORT"
    --tls-cert-file="$PKI/$cert.crt" --tls-private-key-file="$PKI/$cert.key"
    --client-ca-file="$PKI/ca.crt"
    --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group
    --requestheader-extra-headers-prefix=X-Remote-Extra-
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key"
    --enable-aggregator-routing=true
    --admission-control-config-file="$LAB_STATE/apiserver-$i/admission.yaml"
    --service-account-issuer=https://kubernetes.default.svc.cluster.local
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key"
    --authorization-mode=Node,RBAC
    --service-cluster-ip-range=10.96.0.0/16
    --kubelet-preferred-address-types=InternalIP
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt"
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
    --audit-policy-file="$LAB_STATE/audit-policy.yaml" --audit-log-path="$(audit_log_of "$i")"
    --audit-log-maxsize=200 --audit-log-maxbackup=1
    --enable-priority-and-fairness=true
  )
  static_pod "$i" kube-apiserver "apiserver-$i" 250m "$(probes_json HTTPS "$ip" "$APISERVER_PORT" /livez /readyz /livez)" \
    "{\"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint\":\"$ip:$APISERVER_PORT\"}" "${args[@]}"
  start_cp "apiserver-$i" kube-apiserver "$i" "${args[@]}"
}

apiserver_instance_serving() {
  curl -fsSk --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://$(cp_ip "$1"):$APISERVER_PORT/readyz" 2>/dev/null | grep -qx ok
}

# wait_apiserver_instance I WHAT: wait until instance I serves, or fail with its log.
wait_apiserver_instance() {
  wait_for "${2:-kube-apiserver $1 /readyz}" 120 apiserver_instance_serving "$1" ||
    { cp_log_tail kube-apiserver "$1" >&2; die "kube-apiserver $1 did not become ready"; }
}

write_haproxy_config() {
  mkdir -p "$LAB_STATE/haproxy"
  {
    cat <<EOF
# HAProxy in front of the lab's API servers, as kubeadm's HA guide sets it up: TCP passthrough
# (TLS ends at each API server), health-checked on /readyz.
global
  log stdout format raw local0 info
  maxconn 4000
defaults
  mode tcp
  log global
  option tcplog
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend kube-apiserver
  bind $LB_IP:$APISERVER_PORT
  default_backend kube-apiservers
backend kube-apiservers
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 2s fall 2 rise 2
EOF
    local i
    for i in $(seq 0 $((LAB_APISERVERS - 1))); do
      echo "  server apiserver-$i $(cp_ip "$i"):$APISERVER_PORT check check-ssl verify none"
    done
  } >"$LAB_STATE/haproxy/haproxy.cfg"
}

start_haproxy() {
  [ "$LAB_APISERVERS" -gt 1 ] || return 0
  write_haproxy_config
  start haproxy "$LOGS/haproxy.log" haproxy -db -f "$LAB_STATE/haproxy/haproxy.cfg"
}

# All API servers (host network); each waits until it serves.
start_apiservers_host() {
  local i
  for i in $(seq 0 $((LAB_APISERVERS - 1))); do start_apiserver_instance "$i"; done
  for i in $(seq 0 $((LAB_APISERVERS - 1))); do wait_apiserver_instance "$i"; done
  start_haproxy
}

# Static pods of the components that run once, on node 0 (kubeadm runs one of each per
# control-plane node; the lab runs one, to save memory, and says so in lab/NOTES.md).
etcd_args() {
  local ip
  ip=$(cp_ip 0)
  echo "$BIN/etcd-v$ETCD_VERSION" --name lab-control-plane-0 --data-dir "$LAB_STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT,http://$ip:$ETCD_PORT" \
    --advertise-client-urls "http://$ip:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "lab-control-plane-0=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "http://127.0.0.1:$ETCD_METRICS_PORT,http://$ip:$ETCD_METRICS_PORT" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296
}

start_etcd_host() {
  mkdir -p "$LAB_STATE/etcd"
  local args
  read -r -a args <<<"$(etcd_args)"
  static_pod 0 etcd etcd 100m "$(probes_json HTTP "$(cp_ip 0)" "$ETCD_METRICS_PORT" /livez /readyz /readyz)" \
    "{\"kubeadm.kubernetes.io/etcd.advertise-client-urls\":\"http://$(cp_ip 0):$ETCD_PORT\"}" "${args[@]}"
  start_cp etcd etcd 0 "${args[@]}"
  wait_for "etcd" 60 curl -fsS "http://127.0.0.1:$ETCD_METRICS_PORT/readyz" || { cp_log_tail etcd 0 >&2; die "etcd did not start"; }
}

kcm_args() {
  echo "$BIN/kube-controller-manager-v$K8S_VERSION" \
    --kubeconfig="$KCFG/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$KCFG/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$KCFG/kube-controller-manager.kubeconfig" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
    --bind-address="$CP_HOST" --secure-port="$KCM_PORT" \
    --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route'
}

scheduler_args() {
  echo "$BIN/kube-scheduler-v$K8S_VERSION" \
    --kubeconfig="$KCFG/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$KCFG/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$KCFG/kube-scheduler.kubeconfig" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
    --bind-address="$CP_HOST" --secure-port="$SCHEDULER_PORT" --leader-elect=false
}

start_kcm_host() {
  local args
  read -r -a args <<<"$(kcm_args)"
  static_pod 0 kube-controller-manager kube-controller-manager 200m \
    "$(probes_json HTTPS "$CP_HOST" "$KCM_PORT" /healthz - /healthz)" '{}' "${args[@]}"
  start_cp kube-controller-manager kube-controller-manager 0 "${args[@]}"
}

start_scheduler_host() {
  local args
  read -r -a args <<<"$(scheduler_args)"
  static_pod 0 kube-scheduler kube-scheduler 100m \
    "$(probes_json HTTPS "$CP_HOST" "$SCHEDULER_PORT" /livez /readyz /livez)" '{}' "${args[@]}"
  start_cp kube-scheduler kube-scheduler 0 "${args[@]}"
}

# One kubelet stand-in per control-plane node (not in the managed mode, whose control plane
# is not in the cluster's view).
start_lab_kubelets() {
  [ "$CONTROL_PLANE_PODS" = 1 ] || return 0
  local i node
  for i in $(seq 0 $((LAB_APISERVERS - 1))); do
    node=$(cp_node "$i")
    mkdir -p "$LAB_STATE/nodes/$node/manifests"
    start "lab-kubelet-$i" "$LOGS/lab-kubelet-$i.log" "$LGO/lab-kubelet" \
      --kubeconfig "$KCFG/node-$node.kubeconfig" --node "$node" --node-ip "$(cp_ip "$i")" \
      --manifests "$LAB_STATE/nodes/$node/manifests" --listen "$(cp_ip "$i"):$KUBELET_PORT" \
      --cert "$PKI/kubelet-$node.crt" --key "$PKI/kubelet-$node.key" \
      --state "$LAB_STATE/nodes/$node/kubelet-state.json" --kubelet-version "v$K8S_VERSION"
  done
}

# Mirror pods are Ready (all of them, on every control-plane node).
control_plane_pods_ready() {
  [ "$CONTROL_PLANE_PODS" = 1 ] || return 0
  local want=$((LAB_APISERVERS + 3)) ready
  ready=$(kc -n kube-system get pods -l tier=control-plane \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True)
  [ "$ready" -ge "$want" ]
}
