#!/usr/bin/env bash
# Render kubeclienterrors.rules.yaml for your Prometheus: the API server's job name your
# scrape configuration gives it, which forms of KubeClientErrors you need, and whether
# Prometheus reads a rules file or the prometheus-operator a PrometheusRule.
#
#   deploy/prometheus/render-rules.sh [--job NAME] [--for DURATION] [--form 5xx|non2xx|both]
#                                     [--prometheus-rule NAMESPACE [--label KEY=VALUE]...]
#
#   --job NAME        the API server's job label (default kube-apiserver, kubernetes-mixin's
#                     default). Others in use: apiserver (kube-prometheus-stack, kube-prometheus,
#                     OpenShift), kubernetes-apiservers (prometheus-community `prometheus` chart
#                     before 28), kubernetes-api-servers (from 28), controlplane-apiserver (AKS
#                     managed Prometheus), integrations/kubernetes/kube-apiserver (Grafana
#                     k8s-monitoring), k3s-server. Find yours: count by (job) (apiserver_request_total).
#   --for DURATION    how long the ratio must hold before the alert fires (default 15m)
#   --form            5xx: the current upstream rule (5xx only, the API server's own client
#                     calls); non2xx: the original one (any non-2xx answer, no answer at all,
#                     from every client - kube-doctor's own addition); both (default).
#   --prometheus-rule NAMESPACE  emit a monitoring.coreos.com/v1 PrometheusRule in NAMESPACE
#                     instead of a rules file; --label adds a label to it (kube-prometheus-stack
#                     selects rules by release=<its release name>).
#
# kube-prometheus-stack (and kube-prometheus) already ship the 5xx form, for job="apiserver":
# do not install it twice. Add only the other one:
#   deploy/prometheus/render-rules.sh --form non2xx --prometheus-rule monitoring \
#     --label release=kube-prometheus-stack | kubectl apply -f -
# The output is checked with promtool when promtool is installed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
job=kube-apiserver for=15m form=both ns="" labels=()
die() { echo "render-rules.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --job) job=${2:-}; shift 2 ;;
    --for) for=${2:-}; shift 2 ;;
    --form) form=${2:-}; shift 2 ;;
    --prometheus-rule) ns=${2:-}; shift 2 ;;
    --label) labels+=("${2:-}"); shift 2 ;;
    -h | --help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -n "$job" ] || die "--job needs a name"
case $job in *'"'* | *'\'* | *$'\n'*) die "--job '$job': a job label cannot hold quotes, backslashes or newlines here" ;; esac
[[ $for =~ ^([0-9]+(ms|s|m|h|d|w|y))+$ ]] || die "--for '$for' is not a Prometheus duration (for example 15m, 1h30m)"
case $form in 5xx | non2xx | both) ;; *) die "--form '$form': use 5xx, non2xx or both" ;; esac
[ ${#labels[@]} -eq 0 ] || [ -n "$ns" ] || die "--label only applies with --prometheus-rule"
for l in "${labels[@]}"; do
  [[ $l =~ ^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$ ]] || die "--label '$l' is not KEY=VALUE"
done

# The rules: one group; each rule a block from "  - alert:" to the next, kept if its form is
# wanted; the API server's job and the for: duration substituted.
rules=$(awk -v want="$form" -v job="$job" -v dur="$for" '
  function flush() { if (block != "" && (want == "both" || block ~ ("form: " want "\n"))) printf "%s", block; block = "" }
  /^  #/ { if (block ~ /- alert:/) flush(); block = block $0 "\n"; inrule = 1; next }
  /^  - alert:/ { if (block ~ /- alert:/) flush(); inrule = 1 }
  inrule { line = $0
           gsub(/job="kube-apiserver"/, "job=\"" job "\"", line)
           sub(/for: 15m/, "for: " dur, line)
           block = block line "\n"; next }
  { print }
  END { flush() }' "$here/kubeclienterrors.rules.yaml")

if [ -z "$ns" ]; then
  out=$rules
else
  out="apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: kube-doctor-kubeclienterrors
  namespace: $ns"
  if [ ${#labels[@]} -gt 0 ]; then
    out+=$'\n  labels:'
    for l in "${labels[@]}"; do out+=$'\n    '"${l%%=*}: \"${l#*=}\""; done
  fi
  out+=$'\nspec:\n'"$(printf '%s\n' "$rules" | grep -v '^#' | sed 's/^/  /')"
fi
if command -v promtool >/dev/null; then
  tmp=$(mktemp)
  trap 'rm -f "$tmp"' EXIT
  if [ -z "$ns" ]; then printf '%s\n' "$out" >"$tmp"; else printf '%s\n' "$rules" >"$tmp"; fi
  promtool check rules "$tmp" >/dev/null 2>&1 || { promtool check rules "$tmp" >&2; die "the rendered rules do not pass promtool check rules"; }
fi
printf '%s\n' "$out"
