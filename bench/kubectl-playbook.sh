#!/usr/bin/env bash
# The KubeClientErrors runbook's eight steps as an SRE types them with kubectl (and curl for
# Prometheus), for one alert: job/instance INSTANCE. The baseline bench/investigate.sh times
# kube-doctor against. Every command is echoed, then its output follows.
#   KUBECONFIG=... PROMETHEUS_URL=... bench/kubectl-playbook.sh [INSTANCE_IP=127.0.1.2]
set -uo pipefail
IP=${1:-127.0.1.2}
PROM=${PROMETHEUS_URL:-http://127.0.0.1:19090}
k() { echo "kubectl $*"; kubectl "$@"; }
q() { echo "curl $1"; curl -sG "$PROM/api/v1/query" --data-urlencode "query=$1"; echo; }

# 1. API server pods (none here: it runs as a process), and its health.
k -n kube-system get pods -l component=kube-apiserver -o wide
k get --raw '/readyz?verbose'
k get --raw '/livez?verbose'
# 2. kube-system events, newest last; then the same for the client's namespace (below).
k -n kube-system get events --sort-by=.lastTimestamp
# 3. Which clients exceed 1 %, from Prometheus.
q 'sum by (job, instance) (rate(rest_client_requests_total{code!~"2.."}[5m])) / sum by (job, instance) (rate(rest_client_requests_total[5m])) > 0.01'
# 4. The pod behind the instance IP, and its network path.
echo "kubectl get pods -A -o wide"
line=$(kubectl get pods -A -o wide | grep -w "$IP" | head -1)
echo "$line"
ns=$(echo "$line" | awk '{print $1}'); pod=$(echo "$line" | awk '{print $2}')
k -n "$ns" get events --sort-by=.lastTimestamp
k -n "$ns" get pod "$pod" -o yaml
k get svc kubernetes -o wide
k get endpointslices -l kubernetes.io/service-name=kubernetes -o yaml
k -n "$ns" get networkpolicies -o yaml
# 5. Its logs, grepped for the usual suspects.
k -n "$ns" logs "$pod" --all-containers --since=15m | grep -iE 'refused|timeout|timed out|429|throttl|401|unauthorized|403|forbidden|x509|certificate|quota' | tail -50
# 6. Its ServiceAccount, its Secrets, what it may do.
sa=$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.spec.serviceAccountName}')
k -n "$ns" get serviceaccount "$sa" -o yaml
k -n "$ns" get secrets
for s in $(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.spec.volumes[*].secret.secretName}'); do
  k -n "$ns" get secret "$s" -o jsonpath='{.type}{"\n"}'
done
k auth can-i --list -n "$ns" --as "system:serviceaccount:$ns:$sa"
# 7. API server error rate and latency, and APF rejections.
q 'sum by (code) (rate(apiserver_request_total[5m]))'
q 'histogram_quantile(0.99, sum by (le, verb) (rate(apiserver_request_duration_seconds_bucket[5m])))'
q 'sum by (flow_schema, priority_level) (rate(apiserver_flowcontrol_rejected_requests_total[5m]))'
# 8. Quota and flow control.
k -n "$ns" get resourcequota -o yaml
k get flowschemas
k get prioritylevelconfigurations
