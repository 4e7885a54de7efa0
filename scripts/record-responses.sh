#!/usr/bin/env bash
# Records the API and Prometheus answers the unit tests of the steps' pure halves read
# (crates/kube-doctor-core/tests/fixtures/responses/), from the running lab, injecting the
# faults they need and clearing them after. Run on a healthy lab: lab/up first.
#   scripts/record-responses.sh
# What each file is: crates/kube-doctor-core/tests/fixtures/responses/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(lab/env)"
out=crates/kube-doctor-core/tests/fixtures/responses
mkdir -p "$out"
k() { "$LAB_KUBECTL" --kubeconfig "$LAB_ADMIN_KUBECONFIG" "$@"; }
prom() { curl -fsS "$PROMETHEUS_URL/api/v1/$1" "${@:2}"; }
# Metadata that changes every run and says nothing to the tests.
tidy() { python3 -c '
import json, sys
v = json.load(sys.stdin)
def walk(x):
    if isinstance(x, dict):
        x.pop("managedFields", None)
        x.pop("resourceVersion", None)
        for y in x.values(): walk(y)
    elif isinstance(x, list):
        for y in x: walk(y)
walk(v)
json.dump(v, sys.stdout, indent=1, sort_keys=True)
print()'; }
wait_errors() { # wait until Prometheus sees $1's client fail ($2: a code regex)
  for _ in $(seq 1 60); do
    if prom query --data-urlencode "query=sum(increase(rest_client_requests_total{pod=\"$1\",code=~\"$2\"}[1m])) > 0" |
      grep -q '"value"'; then return 0; fi
    sleep 2
  done
  echo "no $2 errors from $1 within 2 minutes" >&2; return 1
}
trap 'lab/fault clear all >/dev/null 2>&1 || true' EXIT
lab/fault clear all >/dev/null

echo "healthy"
k -n demo get pods -o json | tidy >"$out/demo-pods.json"
k get --raw '/readyz?verbose' >"$out/readyz-verbose.txt"
k get apiservices -o json | tidy >"$out/apiservices.json"
ip=$(k -n demo get pod demo-kubers -o jsonpath='{.status.podIP}')
curl -fsS "http://$ip:18082/metrics" >"$out/kubers-client-metrics.txt"
for q in \
  "prom-apiserver-requests-by-code.json|sum by (code) (increase(apiserver_request_total[900s]))" \
  "prom-apiserver-request-buckets.json|sum by (verb, le) (rate(apiserver_request_duration_seconds_bucket{verb!~\"WATCH|CONNECT\"}[900s]))" \
  "prom-etcd-p99.json|topk(5, histogram_quantile(0.99, sum by (operation, resource, type, le) (rate(etcd_request_duration_seconds_bucket[900s]))))"; do
  prom query --data-urlencode "query=${q#*|}" | python3 -m json.tool --indent 1 >"$out/${q%%|*}"
done

echo "rbac-revoked"
sleep 60 # errors of the faults before leave the rate window
t0=$(date +%s)
lab/fault rbac-revoked
wait_errors demo-kubers 403
sleep 20
end=$(date +%s); start=$((t0 - 60))
prom query_range --data-urlencode 'query=sum by (job, instance, code, namespace, pod, host) (rest_client_requests_total)' \
  --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode step=15 |
  python3 -m json.tool --indent 1 >"$out/prom-rates-rbac-revoked.json"
k -n demo logs demo-kubers --timestamps --since=3m >"$out/kubers-log-rbac-revoked.txt"
lab/fault clear rbac-revoked

echo "quota-exceeded"
lab/fault quota-exceeded
wait_errors demo-python 403
k -n demo get resourcequotas -o json | tidy >"$out/demo-resourcequotas-quota-exceeded.json"
lab/fault clear quota-exceeded

echo "a ReplicaSet over a pod quota (events from kube-controller-manager)"
k create namespace kd-record >/dev/null
k -n kd-record create quota no-pods --hard=pods=0 >/dev/null
k -n kd-record apply -f - >/dev/null <<'EOT'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example.invalid/web}]}
EOT
for _ in $(seq 1 30); do
  k -n kd-record get events --field-selector reason=FailedCreate -o name | grep -q . && break
  sleep 1
done
{ k -n demo get events --field-selector type!=Normal -o json; k -n kd-record get events --field-selector type!=Normal -o json; } |
  python3 -c 'import json,sys; d=json.JSONDecoder(); t=sys.stdin.read(); a,i=d.raw_decode(t); b,_=d.raw_decode(t[i:].lstrip()); a["items"]+=b["items"]; json.dump(a,sys.stdout)' |
  tidy >"$out/demo-warning-events.json"
k delete namespace kd-record --wait=false >/dev/null

echo "network-blackhole"
lab/fault network-blackhole
k -n demo get networkpolicies -o json | tidy >"$out/demo-networkpolicies-blackhole.json"
lab/fault clear network-blackhole

echo "apiserver-slow"
lab/fault apiserver-slow
k get validatingwebhookconfigurations -o json | tidy >"$out/validatingwebhookconfigurations.json"
lab/fault clear apiserver-slow

echo "apf-throttle"
lab/fault apf-throttle
wait_errors demo-clientgo 429
k get flowschemas -o json | tidy >"$out/flowschemas-apf-throttle.json"
k get prioritylevelconfigurations -o json | tidy >"$out/prioritylevelconfigurations-apf-throttle.json"
# Only the metrics step 7 reads (the whole /metrics is several MB), and the latency buckets
# only for a few resources.
few='(pods|configmaps|leases|events|serviceaccounts)'
k get --raw /metrics >"$out/.metrics"
grep -v -E '^(etcd|apiserver)_request_duration_seconds_bucket\{' "$out/.metrics" |
  cat - <(grep -E "^(etcd|apiserver)_request_duration_seconds_bucket\\{.*resource=\"$few\"" "$out/.metrics") |
  grep -E '^(# (HELP|TYPE) )?(apiserver_request_total|apiserver_request_duration_seconds_bucket|apiserver_current_inflight_requests|apiserver_flowcontrol_rejected_requests_total|apiserver_flowcontrol_current_inqueue_requests|apiserver_admission_webhook_rejection_count|apiserver_admission_webhook_admission_duration_seconds_bucket|etcd_request_duration_seconds_bucket)[{ ]' \
  >"$out/apiserver-metrics-apf-throttle.txt"
rm -f "$out/.metrics"
lab/fault clear apf-throttle
ls -la "$out"
