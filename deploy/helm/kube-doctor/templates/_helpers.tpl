{{/* Names, labels and the pieces several templates share. */}}

{{- define "kube-doctor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kube-doctor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kube-doctor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-doctor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kube-doctor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kube-doctor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kube-doctor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kube-doctor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the bearer token for /api/*, and its key. */}}
{{- define "kube-doctor.tokenSecret" -}}
{{- default (printf "%s-token" (include "kube-doctor.fullname" .)) .Values.token.existingSecret }}
{{- end }}

{{- define "kube-doctor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where Alertmanager posts: the Service's in-cluster address. */}}
{{- define "kube-doctor.alertsURL" -}}
{{- printf "http://%s.%s.svc:%v/api/alerts" (include "kube-doctor.fullname" .) .Release.Namespace .Values.service.port }}
{{- end }}

{{/* The alertmanager.yml route and receiver, for Alertmanagers not run by the operator. */}}
{{- define "kube-doctor.alertmanagerSnippet" -}}
route:
  routes:
  - receiver: kube-doctor
    matchers: [alertname="KubeClientErrors"]
    group_by: [alertname, job, instance]
    group_wait: {{ .Values.alertmanagerConfig.groupWait }}
    repeat_interval: {{ .Values.alertmanagerConfig.repeatInterval }}
    continue: true
receivers:
- name: kube-doctor
  webhook_configs:
  - url: {{ include "kube-doctor.alertsURL" . }}
    send_resolved: true
    http_config:
      # the token from: kubectl -n {{ .Release.Namespace }} get secret {{ include "kube-doctor.tokenSecret" . }} -o jsonpath='{.data.{{ .Values.token.key }}}' | base64 -d
      authorization: {type: Bearer, credentials_file: /etc/alertmanager/secrets/kube-doctor-token/{{ .Values.token.key }}}
{{- end }}

{{- define "kube-doctor.prometheusDir" -}}
/var/run/kube-doctor/prometheus
{{- end }}

{{/*
The container's arguments, as a YAML list: `kube-doctor serve` and its flags. Optional flags
are passed only when their value is set, so the binary's own defaults apply otherwise.
*/}}
{{- define "kube-doctor.args" -}}
{{- $p := .Values.prometheus }}
{{- $s := .Values.serve }}
{{- $pdir := include "kube-doctor.prometheusDir" . }}
{{- $a := list "serve" (printf "--listen=0.0.0.0:%v" $s.port) (printf "--token-file=/var/run/kube-doctor/token/%s" .Values.token.key) }}
{{- $a = append $a (printf "--since=%s" $s.since) }}
{{- $a = append $a (printf "--threshold=%v" $s.threshold) }}
{{- $a = append $a (printf "--cooldown=%s" $s.cooldown) }}
{{- $a = append $a (printf "--queue-size=%v" $s.queueSize) }}
{{- $a = append $a (printf "--workers=%v" $s.workers) }}
{{- $a = append $a (printf "--keep-reports=%v" $s.keepReports) }}
{{- $a = append $a (printf "--max-body-bytes=%d" (int64 $s.maxBodyBytes)) }}
{{- $a = append $a (printf "--max-inflight=%v" $s.maxInflight) }}
{{- $a = append $a (printf "--step-timeout=%s" $s.stepTimeout) }}
{{- if not $s.events }}{{ $a = append $a "--no-events" }}{{ end }}
{{- if $s.notifyWebhook.existingSecret }}{{ $a = append $a "--notify-webhook=$(KUBE_DOCTOR_NOTIFY_WEBHOOK)" }}{{ end }}
{{- with .Values.cluster.name }}{{ $a = append $a (printf "--cluster=%s" .) }}{{ end }}
{{- with .Values.cluster.label }}{{ $a = append $a (printf "--cluster-label=%s" .) }}{{ end }}
{{- with $p.url }}{{ $a = append $a (printf "--prometheus=%s" .) }}{{ end }}
{{- with $p.apiserverJob }}{{ $a = append $a (printf "--apiserver-job=%s" .) }}{{ end }}
{{- if $p.bearerToken.existingSecret }}{{ $a = append $a (printf "--prometheus-bearer-token-file=%s/bearer-token/%s" $pdir $p.bearerToken.key) }}{{ end }}
{{- if $p.basicAuth.existingSecret }}{{ $a = append $a (printf "--prometheus-basic-auth-file=%s/basic-auth/%s" $pdir $p.basicAuth.key) }}{{ end }}
{{- if $p.tls.caSecret }}{{ $a = append $a (printf "--prometheus-ca-file=%s/ca/%s" $pdir $p.tls.caKey) }}{{ end }}
{{- if $p.tls.clientCertSecret }}
{{- $a = append $a (printf "--prometheus-cert-file=%s/client-cert/%s" $pdir $p.tls.certKey) }}
{{- $a = append $a (printf "--prometheus-key-file=%s/client-cert/%s" $pdir $p.tls.keyKey) }}
{{- end }}
{{- if $p.tls.insecureSkipVerify }}{{ $a = append $a "--prometheus-insecure-skip-tls-verify" }}{{ end }}
{{- range $p.headers }}{{ $a = append $a (printf "--prometheus-header=%s" .) }}{{ end }}
{{- range $s.extraArgs }}{{ $a = append $a (toString .) }}{{ end }}
{{- toYaml $a }}
{{- end }}
