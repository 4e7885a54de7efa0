# Starting the lab's real components: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, KWOK, the slow admission webhook, the kube-rs client's network path,
# Prometheus and Alertmanager. Sourced by lab/up and lab/fault.

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=controlplane.sh
. "$(dirname "${BASH_SOURCE[0]}")/controlplane.sh"

start_etcd() {
  if [ "$LAB_NETWORK" = host ]; then start_etcd_host; return; fi
  mkdir -p "$LAB_STATE/etcd"
  start etcd "$LOGS/etcd.log" "$BIN/etcd-v$ETCD_VERSION" \
    --name lab --data-dir "$LAB_STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "lab=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "http://127.0.0.1:$ETCD_METRICS_PORT" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296
  wait_for "etcd" 60 curl -fsS "http://127.0.0.1:$ETCD_METRICS_PORT/readyz"
}

write_audit_policy() {
  cat >"$LAB_STATE/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
# Node heartbeats from KWOK would drown everything else.
- level: None
  users: [kwok]
  verbs: [get, update, patch]
  resources: [{group: coordination.k8s.io, resources: [leases]}, {group: "", resources: [nodes, nodes/status]}]
- level: Metadata
EOF
}

# The serving certificate in use: "apiserver" or, under the apiserver-cert-expired fault,
# "apiserver-expired".
apiserver_cert() { cat "$LAB_STATE/apiserver-cert" 2>/dev/null || echo apiserver; }

# start_apiserver [I]: the API server (loopback lab), or instance I - by default every
# instance - on the host network.
start_apiserver() {
  if [ "$LAB_NETWORK" = host ]; then
    if [ -n "${1:-}" ]; then start_apiserver_instance "$1"; else start_apiservers_host; fi
    return
  fi
  write_audit_policy
  local cert
  cert=$(apiserver_cert)
  start apiserver "$LOGS/kube-apiserver.log" "$BIN/kube-apiserver-v$K8S_VERSION" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/$cert.crt" --tls-private-key-file "$PKI/$cert.key" \
    --client-ca-file "$PKI/ca.crt" \
    --requestheader-client-ca-file "$PKI/ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode Node,RBAC \
    --service-cluster-ip-range 10.96.0.0/16 \
    --kubelet-preferred-address-types InternalIP \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --audit-policy-file "$LAB_STATE/audit-policy.yaml" --audit-log-path "$LOGS/audit.log" \
    --audit-log-maxsize 200 --audit-log-maxbackup 1 \
    --enable-priority-and-fairness=true
}

apiserver_ready() {
  curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "$APISERVER_URL/readyz" 2>/dev/null | grep -qx ok
}

# Last lines of the (first) API server's log, for error messages.
apiserver_log_tail() {
  if [ "$LAB_NETWORK" = host ]; then cp_log_tail kube-apiserver "${1:-0}"; else tail -20 "$LOGS/kube-apiserver.log"; fi
}

# Ready means serving, even with an expired certificate (then TLS verification is skipped).
apiserver_serving() {
  curl -fsSk --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$APISERVER_URL/readyz" 2>/dev/null | grep -qx ok
}

start_kcm() {
  if [ "$LAB_NETWORK" = host ]; then start_kcm_host; return; fi
  start kube-controller-manager "$LOGS/kube-controller-manager.log" "$BIN/kube-controller-manager-v$K8S_VERSION" \
    --kubeconfig "$KCFG/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$KCFG/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$KCFG/kube-controller-manager.kubeconfig" \
    --authorization-always-allow-paths /healthz,/readyz,/livez,/metrics \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route'
}

start_scheduler() {
  if [ "$LAB_NETWORK" = host ]; then start_scheduler_host; return; fi
  start kube-scheduler "$LOGS/kube-scheduler.log" "$BIN/kube-scheduler-v$K8S_VERSION" \
    --kubeconfig "$KCFG/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$KCFG/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$KCFG/kube-scheduler.kubeconfig" \
    --authorization-always-allow-paths /healthz,/readyz,/livez,/metrics \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false
}

write_kwok_config() {
  local c pod stage first=1
  {
    # Upstream's "fast" stages (node initialize and heartbeat, pod ready/complete/delete).
    for stage in "$BIN/kwok-stages-v$KWOK_VERSION"/*.yaml; do
      [ $first -eq 1 ] || echo "---"
      first=0
      cat "$stage"
    done
    # Each client pod's container log is the real client's log file.
    for c in clientgo kubers python; do
      pod="demo-$c"
      mkdir -p "$PODLOGS/$pod"
      cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata: {name: $pod, namespace: $NS}
spec:
  logs:
  - containers: [$c]
    logsFile: $PODLOGS/$pod/current.log
    previousLogsFile: $PODLOGS/$pod/previous.log
    follow: true
EOF
    done
    if [ "$LAB_NETWORK" = host ]; then
      # When the API servers were gone long enough for the node to turn NotReady, the
      # controller-manager marked the node's pods not Ready; a kubelet that is back sets them
      # Ready again, KWOK's own stages (pending pods only) do not. Without this the Services
      # of the lab's pods (clients, webhooks, Prometheus) keep no ready endpoints after
      # apiserver-down.
      cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: lab-pod-ready-again}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: In, values: ['False']}
  delay: {durationMilliseconds: 1000}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      - {lastTransitionTime: {{ \$now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ \$now | Quote }}, status: "True", type: Ready}
      - {lastTransitionTime: {{ \$now | Quote }}, status: "True", type: ContainersReady}
      - {lastTransitionTime: {{ \$now | Quote }}, status: "True", type: PodScheduled}
EOF
      mkdir -p "$PODLOGS/policy-webhook"
      cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata: {name: policy-webhook, namespace: policy}
spec:
  logs:
  - containers: [webhook]
    logsFile: $PODLOGS/policy-webhook/current.log
    follow: true
EOF
    fi
  } >"$LAB_STATE/kwok.yaml"
}

start_kwok() {
  write_kwok_config
  start kwok "$LOGS/kwok.log" "$BIN/kwok-v$KWOK_VERSION" \
    --kubeconfig "$KCFG/kwok.kubeconfig" --config "$LAB_STATE/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr "$POD_CIDR" --node-ip "$KWOK_NODE_IP" --node-port "$KWOK_PORT" \
    --server-address "$KWOK_NODE_IP:$KWOK_PORT"
}

# The API server reaches KWOK's "kubelet" (pod logs) through the node's InternalIP. KWOK sets
# it once, at node initialisation; put it back if anything cleared it.
ensure_node_addresses() {
  local have
  have=$(kc get node kwok-node-0 -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null || true)
  [ -n "$have" ] && return 0
  kc patch node kwok-node-0 --subresource=status --type=merge \
    -p '{"status":{"addresses":[{"type":"InternalIP","address":"'"$KWOK_NODE_IP"'"},{"type":"Hostname","address":"kwok-node-0"}]}}' >/dev/null
}

start_webhook() {
  # On the host network the stall is switched by a file, which can name one API server.
  local only=()
  [ "$LAB_NETWORK" = host ] && only=(--stall-file "$RUN/webhook.stall")
  start lab-webhook "$LOGS/lab-webhook.log" "$LGO/lab-webhook" \
    --listen "127.0.0.1:$WEBHOOK_PORT" --cert "$PKI/webhook.crt" --key "$PKI/webhook.key" --stall 10s "${only[@]}" \
    --fail-file "$RUN/webhook.fail"
}

policy_webhook_ip() { kc -n policy get pod policy-webhook -o jsonpath='{.status.podIP}' 2>/dev/null; }
policy_webhook_has_ip() { [ -n "$(policy_webhook_ip)" ]; }

# The policy engine's pod (host network): lab-webhook's /policy on the pod's IP, its log the
# pod's container log. webhook-5xx breaks it (lab/fault).
start_policy_webhook() {
  [ "$LAB_NETWORK" = host ] || return 0
  is_running policy-webhook && return 0
  kc apply -f "$LAB_DIR/manifests/policy-webhook.yaml" >/dev/null
  wait_for "pod policy/policy-webhook to get an IP" 90 policy_webhook_has_ip || die "pod policy/policy-webhook got no IP"
  mkdir -p "$PODLOGS/policy-webhook"
  start policy-webhook "$LOGS/policy-webhook.runner.log" "$LGO/lab-run" --log "$PODLOGS/policy-webhook/current.log" -- \
    "$LGO/lab-webhook" --listen "$(policy_webhook_ip):8443" --cert "$PKI/policy-webhook.crt" --key "$PKI/policy-webhook.key" \
    --stall 0s --fail-file "$RUN/policy-webhook.fail"
}

start_kubers_proxy() {
  start kubers-proxy "$LOGS/kubers-proxy.log" "$LGO/lab-proxy" \
    --listen "127.0.0.1:$KUBERS_PROXY_PORT" --upstream "$APISERVER_HOST:$APISERVER_PORT" \
    --blackhole "$RUN/kubers-proxy.blackhole"
}

write_prometheus_config() {
  mkdir -p "$LAB_STATE/prometheus"
  local rules="$LAB_STATE/prometheus/kubeclienterrors.rules.yaml"
  sed "s/for: 15m/for: $LAB_ALERT_FOR/" "$LAB_DIR/../deploy/prometheus/kubeclienterrors.rules.yaml" >"$rules"
  {
    echo "["
    local c sep=""
    for c in clientgo kubers python; do
      printf '%s{"targets":["%s:%s"],"labels":{"namespace":"%s","pod":"demo-%s","container":"%s"}}\n' \
        "$sep" "$(pod_ip "demo-$c")" "$(client_port "$c")" "$NS" "$c" "$c"
      sep=","
    done
    echo "]"
  } >"$LAB_STATE/prometheus/clients.json"
  local apiservers="\"127.0.0.1:$APISERVER_PORT\"" i
  if [ "$LAB_NETWORK" = host ]; then
    apiservers=""
    for i in $(seq 0 $((LAB_APISERVERS - 1))); do apiservers="$apiservers${apiservers:+, }\"$(cp_ip "$i"):$APISERVER_PORT\""; done
  fi
  {
    cat <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files: [$rules]
alerting:
  alertmanagers:
  - static_configs: [{targets: ["127.0.0.1:$ALERTMANAGER_PORT"]}]
scrape_configs:
EOF
    # A managed control plane's components are not scraped (LAB_MANAGED=1).
    [ "$LAB_MANAGED" = 1 ] || cat <<EOF
- job_name: kube-apiserver
  scheme: https
  tls_config: {ca_file: $PKI/ca.crt, cert_file: $PKI/prometheus.crt, key_file: $PKI/prometheus.key}
  static_configs: [{targets: [$apiservers]}]
- job_name: kube-controller-manager
  scheme: https
  tls_config: {insecure_skip_verify: true}
  static_configs: [{targets: ["$CP_HOST:$KCM_PORT"]}]
- job_name: kube-scheduler
  scheme: https
  tls_config: {insecure_skip_verify: true}
  static_configs: [{targets: ["$CP_HOST:$SCHEDULER_PORT"]}]
- job_name: etcd
  static_configs: [{targets: ["$CP_HOST:$ETCD_METRICS_PORT"]}]
EOF
    cat <<EOF
- job_name: demo-clients
  file_sd_configs: [{files: [$LAB_STATE/prometheus/clients.json], refresh_interval: 5s}]
EOF
  } >"$LAB_STATE/prometheus/prometheus.yml"
}

start_prometheus() {
  write_prometheus_config
  start prometheus "$LOGS/prometheus.log" prometheus \
    --config.file "$LAB_STATE/prometheus/prometheus.yml" \
    --storage.tsdb.path "$LAB_STATE/prometheus/data" \
    --web.listen-address "127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle \
    --storage.tsdb.retention.time 2d
}

write_alertmanager_config() {
  mkdir -p "$LAB_STATE/alertmanager"
  local auth=""
  if [ -n "${LAB_ALERT_WEBHOOK_TOKEN_FILE:-}" ]; then
    auth="
    http_config:
      authorization: {type: Bearer, credentials_file: $LAB_ALERT_WEBHOOK_TOKEN_FILE}"
  fi
  cat >"$LAB_STATE/alertmanager/alertmanager.yml" <<EOF
route:
  receiver: kube-doctor
  group_by: [alertname, job, instance]
  group_wait: 5s
  group_interval: 30s
  repeat_interval: $LAB_ALERT_REPEAT
receivers:
- name: kube-doctor
  webhook_configs:
  - url: $LAB_ALERT_WEBHOOK_URL
    send_resolved: true$auth
EOF
}

start_alertmanager() {
  write_alertmanager_config
  start alertmanager "$LOGS/alertmanager.log" prometheus-alertmanager \
    --config.file "$LAB_STATE/alertmanager/alertmanager.yml" \
    --storage.path "$LAB_STATE/alertmanager/data" \
    --web.listen-address "127.0.0.1:$ALERTMANAGER_PORT" \
    --cluster.listen-address=
}
