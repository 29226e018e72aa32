{{/* Names and labels shared by every template. */}}

{{- define "kcp-edge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kcp-edge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kcp-edge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kcp-edge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kcp-edge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kcp-edge.labels" -}}
helm.sh/chart: {{ include "kcp-edge.chart" . }}
{{ include "kcp-edge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kcp-edge
{{- end -}}

{{- define "kcp-edge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kcp-edge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kcp-edge.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Secret names: the operator's existing Secret, or the one this chart creates from PEM values. */}}
{{- define "kcp-edge.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "kcp-edge.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{- define "kcp-edge.shardClientSecretName" -}}
{{- default (printf "%s-shard-client" (include "kcp-edge.fullname" .)) .Values.shardClient.existingSecret -}}
{{- end -}}

{{- define "kcp-edge.caBundlesSecretName" -}}
{{- default (printf "%s-ca-bundles" (include "kcp-edge.fullname" .)) .Values.caBundles.existingSecret -}}
{{- end -}}

{{- define "kcp-edge.hasCaBundles" -}}
{{- if or .Values.caBundles.existingSecret .Values.caBundles.bundles -}}true{{- end -}}
{{- end -}}

{{/* The drain bound is the gateway's own setting; 30 s is its default. */}}
{{- define "kcp-edge.drainSeconds" -}}
{{- dig "drain" "timeoutSeconds" 30 .Values.config.gateway -}}
{{- end -}}

{{/* Kubernetes waits this long before SIGKILL: the preStop pause, then the drain bound, plus a margin. */}}
{{- define "kcp-edge.terminationGracePeriodSeconds" -}}
{{- add .Values.gateway.drain.preStopSleepSeconds (ceil (include "kcp-edge.drainSeconds" . | float64)) .Values.gateway.drain.marginSeconds -}}
{{- end -}}

{{/* The gateway's listener port, from its own config (6443 by default). */}}
{{- define "kcp-edge.gatewayPort" -}}
{{- dig "listen" "port" 6443 .Values.config.gateway | int -}}
{{- end -}}

{{/* Hash of everything mounted as config, so a `helm upgrade` that changes it rolls the pods. */}}
{{- define "kcp-edge.configChecksum" -}}
{{- toYaml .Values.config | sha256sum -}}
{{- end -}}

{{- define "kcp-edge.syncVolumes" -}}
{{- if .Values.sync.kcpKubeconfig.existingSecret }}
- name: kcp-kubeconfig
  secret:
    secretName: {{ .Values.sync.kcpKubeconfig.existingSecret }}
{{- end }}
{{- if .Values.sync.serviceClusterKubeconfig.existingSecret }}
- name: service-cluster-kubeconfig
  secret:
    secretName: {{ .Values.sync.serviceClusterKubeconfig.existingSecret }}
{{- end }}
{{- end -}}

{{- define "kcp-edge.syncVolumeMounts" -}}
{{- if .Values.sync.kcpKubeconfig.existingSecret }}
- name: kcp-kubeconfig
  mountPath: /var/run/kcp-edge/kcp
  readOnly: true
{{- end }}
{{- if .Values.sync.serviceClusterKubeconfig.existingSecret }}
- name: service-cluster-kubeconfig
  mountPath: /var/run/kcp-edge/service-cluster
  readOnly: true
{{- end }}
{{- end -}}
