# Monitoring as kube-prometheus-stack gives it (LAB_MONITORING=kube-prometheus-stack): the
# chart (pinned in ../shared/vendor/) rendered with `helm template` and applied as it is -
# CRDs, the operator's Deployment and RBAC, the Prometheus and Alertmanager CRs, the
# ServiceMonitors and PrometheusRules - and the real prometheus-operator reconciling it
# against the lab's API server. The pods the operator asks for (its own, Prometheus's,
# Alertmanager's) are scheduled to the KWOK node like any pod; the lab then runs each one's real
# process on the pod's IP, as the pod's container would run:
#   - lab-config-reloader keeps the pod's volumes (Secrets, ConfigMaps, the ServiceAccount
#     token) on disk under $KPS_DIR/pods/<pod>/root and does what the operator's
#     config-reloader sidecar is configured to do (unpack the generated configuration, reload);
#   - lib/pod-sandbox runs the process in its own mount namespace where those volumes are at
#     the paths the pod spec mounts them (/etc/prometheus/..., /var/run/secrets/
#     kubernetes.io/serviceaccount), with KUBERNETES_SERVICE_HOST/PORT set as the kubelet sets
#     them, so the operator-generated configuration is used byte for byte;
#   - the container's args come from the pod spec; the pod's localhost is its IP (listen
#     addresses), and data volumes outside /etc are under the pod's root (storage paths).
# Sourced by lab/up, lab/fault and lab/down.

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KPS_NS=monitoring
KPS_RELEASE=kube-prometheus-stack
KPS_DIR="$LAB_STATE/kps"
KPS_CHART_TGZ=${LAB_KPS_CHART:-$LAB_DIR/../../shared/vendor/kube-prometheus-stack-$KPS_CHART_VERSION.tgz}
KPS_PROMETHEUS_POD=prometheus-$KPS_RELEASE-prometheus-0
KPS_ALERTMANAGER_POD=alertmanager-$KPS_RELEASE-alertmanager-0
HELM="$BIN/helm-v$HELM_VERSION"

find_kps_chart() {
  local c
  for c in "$KPS_CHART_TGZ" "$LAB_DIR/../../shared/vendor/kube-prometheus-stack-$KPS_CHART_VERSION.tgz" \
    "/work/shared/vendor/kube-prometheus-stack-$KPS_CHART_VERSION.tgz"; do
    [ -f "$c" ] && { echo "$c"; return 0; }
  done
  die "the kube-prometheus-stack chart $KPS_CHART_VERSION is not at $KPS_CHART_TGZ (set LAB_KPS_CHART to the .tgz)"
}

# A working copy of the chart without the subcharts that are not vendored (Grafana,
# kube-state-metrics, node-exporter, the Windows exporter): helm refuses a Chart.yaml whose
# dependencies are missing, even disabled ones.
kps_chart() {
  local tgz
  tgz=$(find_kps_chart)
  rm -rf "$KPS_DIR/chart"
  mkdir -p "$KPS_DIR/chart"
  tar -xzf "$tgz" -C "$KPS_DIR/chart"
  local cy="$KPS_DIR/chart/kube-prometheus-stack/Chart.yaml"
  awk '
    /^dependencies:/ { deps = 1; print; next }
    deps && /^[^ ]/ { deps = 0 }
    deps && /^  - name:/ { keep = ($3 == "crds") }
    deps { if (keep) print; next }
    { print }' "$cy" >"$cy.new"
  mv "$cy.new" "$cy"
  rm -f "$KPS_DIR/chart/kube-prometheus-stack/Chart.lock"
}

# The values that depend on this lab: ports of the control-plane components (the chart's
# Services point at them), KubeClientErrors' for:, the Alertmanager route to kube-doctor serve,
# and the managed mode's missing targets.
kps_values() {
  local managed=true
  [ "$LAB_MANAGED" = 1 ] && managed=false
  cat >"$KPS_DIR/values.lab.yaml" <<EOF
# Written by lab/lib/kps.sh for this lab ($LAB_STATE).
customRules:
  KubeClientErrors:
    for: $LAB_ALERT_FOR
kubeApiServer:
  enabled: $managed
kubeControllerManager:
  enabled: $managed
  service: {port: $KCM_PORT, targetPort: $KCM_PORT}
kubeScheduler:
  enabled: $managed
  service: {port: $SCHEDULER_PORT, targetPort: $SCHEDULER_PORT}
kubeEtcd:
  enabled: $managed
  service: {port: $ETCD_METRICS_PORT, targetPort: $ETCD_METRICS_PORT}
alertmanager:
  alertmanagerSpec:
    secrets: [kube-doctor-serve-token]
  config:
    route:
      routes:
      - receiver: 'null'
        matchers: ['alertname = "Watchdog"']
      - receiver: kube-doctor
        matchers: ['alertname = "KubeClientErrors"']
        group_by: [alertname, job, instance]
        group_wait: 5s
        group_interval: 30s
        repeat_interval: $LAB_ALERT_REPEAT
    receivers:
    - name: 'null'
    - name: kube-doctor
      webhook_configs:
      - url: $LAB_ALERT_WEBHOOK_URL
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: /etc/alertmanager/secrets/kube-doctor-serve-token/token
EOF
}

kps_render() {
  mkdir -p "$KPS_DIR"
  kps_chart
  kps_values
  "$HELM" template "$KPS_RELEASE" "$KPS_DIR/chart/kube-prometheus-stack" --namespace "$KPS_NS" \
    --kube-version "v$K8S_VERSION" --include-crds \
    -f "$LAB_DIR/kps/values.yaml" -f "$KPS_DIR/values.lab.yaml" >"$KPS_DIR/rendered.yaml" ||
    die "helm template failed for the kube-prometheus-stack chart (values: lab/kps/values.yaml, $KPS_DIR/values.lab.yaml)"
  # CRDs first (they must be established before their objects), then everything else.
  python3 - "$KPS_DIR/rendered.yaml" "$KPS_DIR/crds.yaml" "$KPS_DIR/objects.yaml" <<'EOF'
import re, sys
docs = re.split(r'(?m)^---\s*$', open(sys.argv[1]).read())
crds, rest = [], []
for d in docs:
    if not re.search(r'(?m)^kind:', d):
        continue
    (crds if re.search(r'(?m)^kind: CustomResourceDefinition\s*$', d) else rest).append(d.strip('\n'))
open(sys.argv[2], 'w').write('\n---\n'.join(crds) + '\n')
open(sys.argv[3], 'w').write('\n---\n'.join(rest) + '\n')
EOF
}

crds_established() {
  local n
  n=$(kc get crd -o jsonpath='{range .items[*]}{.spec.group}{" "}{.status.conditions[?(@.type=="Established")].status}{"\n"}{end}' |
    grep -c '^monitoring.coreos.com True')
  [ "$n" -ge 10 ]
}

kps_apply() {
  kc create namespace "$KPS_NS" --dry-run=client -o yaml | kc apply -f - >/dev/null
  kc apply --server-side --force-conflicts --field-manager=helm -f "$KPS_DIR/crds.yaml" >/dev/null
  wait_for "the monitoring.coreos.com CRDs" 60 crds_established
  # Alertmanager authenticates to kube-doctor serve with this token (alertmanagerSpec.secrets).
  kc -n "$KPS_NS" create secret generic kube-doctor-serve-token --from-file=token="$LAB_STATE/serve-token" \
    --dry-run=client -o yaml | kc apply -f - >/dev/null
  kc apply --server-side --force-conflicts --field-manager=helm -f "$KPS_DIR/objects.yaml" >/dev/null
  # The lab's workloads, scraped as users' workloads are: two ServiceMonitors, one PodMonitor.
  kc apply -f "$LAB_DIR/manifests/kps/clients.yaml" >/dev/null
}

# The first pod (name) matching a label selector in the monitoring namespace, with an IP.
kps_pod() { kc -n "$KPS_NS" get pods -l "$1" -o jsonpath='{range .items[?(@.status.podIP)]}{.metadata.name}{"\n"}{end}' 2>/dev/null | head -1; }
kps_pod_ip() { kc -n "$KPS_NS" get pod "$1" -o jsonpath='{.status.podIP}' 2>/dev/null; }
kps_pod_has_ip() { [ -n "$(kps_pod_ip "$1")" ]; }

# container_argv POD CONTAINER ROOT IP: the container's command line as the lab runs it, one
# argument a line: args from the pod spec with $(VAR) expanded from its env (as the kubelet
# does), listen addresses on the pod's IP, and /prometheus, /alertmanager data paths under ROOT.
container_argv() {
  kc -n "$KPS_NS" get pod "$1" -o json | python3 -c '
import json, re, sys
pod = json.load(sys.stdin)
name, root, ip = sys.argv[1], sys.argv[2], sys.argv[3]
c = next(c for c in pod["spec"]["containers"] if c["name"] == name)
env = {}
for e in c.get("env", []):
    if "value" in e:
        env[e["name"]] = e["value"]
    elif "fieldRef" in e.get("valueFrom", {}):
        f = e["valueFrom"]["fieldRef"]["fieldPath"]
        env[e["name"]] = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": pod["metadata"]["namespace"],
                          "status.podIP": ip, "spec.nodeName": pod["spec"].get("nodeName", "")}.get(f, "")
out = []
for a in c.get("args", []):
    a = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), a)
    k, sep, v = a.partition("=")
    if sep and k.endswith("listen-address") and v:
        host, _, port = v.rpartition(":")
        if host in ("", "0.0.0.0", "[::]", "127.0.0.1", "localhost") or host.strip("[]") == ip:
            a = "%s=%s:%s" % (k, ip, port)
    if sep and k in ("--storage.tsdb.path", "--storage.path") and v.startswith("/"):
        a = "%s=%s%s" % (k, root, v)
    out.append(a)
print("\n".join(out))
' "$2" "$3" "$4"
}

# start_kps_pod NAME POD CONTAINER BINARY [READY]: run the pod's container with its volumes,
# once the command READY (if given) says its configuration is on disk.
start_kps_pod() {
  local name=$1 pod=$2 container=$3 binary=$4 ready=${5:-true}
  is_running "$name" && return 0
  local ip root
  ip=$(kps_pod_ip "$pod")
  [ -n "$ip" ] || die "pod $KPS_NS/$pod has no IP"
  root="$KPS_DIR/pods/$pod/root"
  mkdir -p "$root"
  # The kubelet's volumes (and the config-reloader sidecar, where the pod has one).
  "$LGO/lab-config-reloader" --kubeconfig "$KCFG/admin.kubeconfig" --namespace "$KPS_NS" --pod "$pod" \
    --pod-ip "$ip" --root "$root" --once >>"$LOGS/$name-volumes.log" 2>&1 ||
    { tail -5 "$LOGS/$name-volumes.log" >&2; die "could not write the volumes of pod $pod"; }
  start "$name-reloader" "$LOGS/$name-reloader.log" "$LGO/lab-config-reloader" --kubeconfig "$KCFG/admin.kubeconfig" \
    --namespace "$KPS_NS" --pod "$pod" --pod-ip "$ip" --root "$root"
  wait_for "the configuration of pod $pod" 120 "$ready" ||
    { tail -5 "$LOGS/$name-reloader.log" >&2; die "the operator's configuration for $pod did not arrive"; }
  local argv=()
  mapfile -t argv < <(container_argv "$pod" "$container" "$root" "$ip")
  mkdir -p "$PODLOGS/$pod"
  start "$name" "$LOGS/$name.runner.log" env KUBERNETES_SERVICE_HOST="$APISERVER_HOST" KUBERNETES_SERVICE_PORT="$APISERVER_PORT" \
    "$LAB_DIR/lib/pod-sandbox" "$root" -- "$LGO/lab-run" --log "$PODLOGS/$pod/current.log" -- "$binary" "${argv[@]}"
}

# The operator-generated configuration has reached the pod's disk.
kps_config_ready() { [ -s "$KPS_DIR/pods/$KPS_PROMETHEUS_POD/root/etc/prometheus/config_out/prometheus.env.yaml" ]; }
kps_am_config_ready() { [ -s "$KPS_DIR/pods/$KPS_ALERTMANAGER_POD/root/etc/alertmanager/config_out/alertmanager.env.yaml" ]; }

start_kps() {
  kps_render
  kps_apply
  local op
  wait_for "the operator's pod" 90 kps_pod "app=$KPS_RELEASE-operator" || die "the operator's pod was not scheduled"
  op=$(kps_pod "app=$KPS_RELEASE-operator")
  wait_for "pod $op's IP" 60 kps_pod_has_ip "$op"
  start_kps_pod prometheus-operator "$op" "$KPS_RELEASE" "$BIN/prometheus-operator-v$PROMETHEUS_OPERATOR_VERSION"
  wait_for "the operator to create Prometheus's pod" 120 kps_pod_has_ip "$KPS_PROMETHEUS_POD" ||
    { tail -20 "$PODLOGS/$op/current.log" >&2; die "the operator did not create $KPS_PROMETHEUS_POD"; }
  wait_for "the operator to create Alertmanager's pod" 120 kps_pod_has_ip "$KPS_ALERTMANAGER_POD" ||
    { tail -20 "$PODLOGS/$op/current.log" >&2; die "the operator did not create $KPS_ALERTMANAGER_POD"; }
  start_kps_pod alertmanager "$KPS_ALERTMANAGER_POD" alertmanager prometheus-alertmanager kps_am_config_ready
  start_kps_pod prometheus "$KPS_PROMETHEUS_POD" prometheus "$BIN/prometheus-v$KPS_PROMETHEUS_VERSION" kps_config_ready
}

kps_prometheus_url() { echo "http://$(kps_pod_ip "$KPS_PROMETHEUS_POD"):9090"; }
kps_alertmanager_url() { echo "http://$(kps_pod_ip "$KPS_ALERTMANAGER_POD"):9093"; }
