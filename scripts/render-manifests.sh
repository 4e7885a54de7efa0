#!/usr/bin/env bash
# The raw manifests in deploy/ are rendered from the Helm chart, their single source:
#   deploy/rbac.yaml        the read-only ClusterRole (what collect/investigate need)
#   deploy/serve-rbac.yaml  the `create events` ClusterRole serve adds
#   deploy/serve.yaml       serve: ServiceAccount, bindings, Deployment, Service (namespace
#                           kube-doctor, token from the Secret kube-doctor-token)
#   deploy/alertmanager-receiver.yaml  the alertmanager.yml route and receiver for it (the
#                           snippet the chart's NOTES print when there is no AlertmanagerConfig)
#   scripts/render-manifests.sh          write them
#   scripts/render-manifests.sh --check  fail if they differ from the chart (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=$(scripts/go-tool.sh helm)
chart=deploy/helm/kube-doctor
check=0; [ "${1:-}" = --check ] && check=1
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

render() { # render FILE HEADER TEMPLATE...
  local file=$1 header=$2; shift 2
  local only=(); for t in "$@"; do only+=(--show-only "templates/$t"); done
  {
    printf '# Rendered from the Helm chart deploy/helm/kube-doctor by scripts/render-manifests.sh:\n'
    printf '# edit the chart, not this file (CI checks they agree).\n'
    printf '%s\n' "$header"
    "$HELM" template kube-doctor "$chart" --namespace kube-doctor \
      --set token.existingSecret=kube-doctor-token "${only[@]}"
  } >"$out/$file"
}
render rbac.yaml "# kubectl apply -f deploy/rbac.yaml, then bind it to the identity collect/investigate run as." \
  clusterrole.yaml
render serve-rbac.yaml "# What serve adds to deploy/rbac.yaml: creating its KubeDoctorDiagnosis Events." \
  clusterrole-events.yaml
render serve.yaml "# kubectl create namespace kube-doctor
# kubectl -n kube-doctor create secret generic kube-doctor-token --from-literal=token=\$(openssl rand -hex 24)
# kubectl apply -f deploy/rbac.yaml -f deploy/serve-rbac.yaml -f deploy/serve.yaml
# (or: helm install kube-doctor deploy/helm/kube-doctor -n kube-doctor --create-namespace)" \
  serviceaccount.yaml clusterrolebinding.yaml service.yaml deployment.yaml

# NOTES.txt is not a manifest: render a copy of it as a template (--debug prints text that is
# not YAML, and exits 1 for that reason) and keep the snippet, from "route:" on.
cp -r "$chart" "$out/chart"
cp "$out/chart/templates/NOTES.txt" "$out/chart/templates/notes.yaml"
{
  printf '# Rendered from the Helm chart deploy/helm/kube-doctor (NOTES.txt) by scripts/render-manifests.sh.\n'
  printf '# Alertmanager: route KubeClientErrors to kube-doctor serve (merge into your alertmanager.yml).\n'
  { "$HELM" template kube-doctor "$out/chart" --namespace kube-doctor --set token.existingSecret=kube-doctor-token \
    --debug --show-only templates/notes.yaml 2>/dev/null || true; } | sed -n '/^route:/,$p'
} >"$out/alertmanager-receiver.yaml"
grep -q '^receivers:' "$out/alertmanager-receiver.yaml" || { echo "the chart's NOTES gave no Alertmanager snippet" >&2; exit 1; }

status=0
for f in rbac.yaml serve-rbac.yaml serve.yaml alertmanager-receiver.yaml; do
  if [ $check = 1 ]; then
    diff -u "deploy/$f" "$out/$f" >&2 || { echo "deploy/$f differs from the chart: run scripts/render-manifests.sh" >&2; status=1; }
  else
    cp "$out/$f" "deploy/$f"
  fi
done
exit $status
