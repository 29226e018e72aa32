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
{{- define "kcp-edge.adminDir" -}}/var/run/kcp-edge/admin{{- end -}}

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

{{/* Where the Redis Secrets are mounted (whole directories: kubelet updates them when the Secret changes). */}}
{{- define "kcp-edge.redisAuthDir" -}}/var/run/kcp-edge/redis/auth{{- end -}}
{{- define "kcp-edge.redisTlsDir" -}}/var/run/kcp-edge/redis/tls{{- end -}}

{{/*
gateway.yaml: config.gateway as given, plus the paths of the mounted Redis Secrets in routing.redis
(passwordFile, sentinelPasswordFile, tls.caFile/certFile/keyFile). Refuses values that would mount a
Secret nothing reads, or name a file in two places.
*/}}
{{- define "kcp-edge.gatewayConfig" -}}
{{- $config := deepCopy .Values.config.gateway -}}
{{- $auth := .Values.redis -}}
{{- $tls := .Values.redis.tls -}}
{{- if or $auth.existingSecret $tls.existingSecret -}}
{{- $redis := dig "routing" "redis" nil $config -}}
{{- if not (kindIs "map" $redis) -}}
{{- fail "redis.existingSecret and redis.tls.existingSecret are for the shared routing table: set config.gateway.routing.redis (and config.gateway.routing.embedded to null)" -}}
{{- end -}}
{{- if $auth.existingSecret -}}
{{- if hasKey $redis "passwordFile" -}}
{{- fail "config.gateway.routing.redis.passwordFile: leave it out, redis.existingSecret sets it to the mounted file" -}}
{{- end -}}
{{- $_ := set $redis "passwordFile" (printf "%s/%s" (include "kcp-edge.redisAuthDir" .) (required "redis.passwordKey is required with redis.existingSecret" $auth.passwordKey)) -}}
{{- if $auth.sentinelPasswordKey -}}
{{- if hasKey $redis "sentinelPasswordFile" -}}
{{- fail "config.gateway.routing.redis.sentinelPasswordFile: leave it out, redis.sentinelPasswordKey sets it to the mounted file" -}}
{{- end -}}
{{- $_ := set $redis "sentinelPasswordFile" (printf "%s/%s" (include "kcp-edge.redisAuthDir" .) $auth.sentinelPasswordKey) -}}
{{- end -}}
{{- end -}}
{{- if $tls.existingSecret -}}
{{- if not (hasPrefix "rediss" (toString $redis.url)) -}}
{{- fail "redis.tls.existingSecret needs a rediss:// (or rediss+sentinel://, rediss+cluster://) URL in config.gateway.routing.redis.url" -}}
{{- end -}}
{{- $files := dict -}}
{{- if $tls.caKey }}{{ $_ := set $files "caFile" (printf "%s/%s" (include "kcp-edge.redisTlsDir" .) $tls.caKey) }}{{ end -}}
{{- if $tls.certKey }}{{ $_ := set $files "certFile" (printf "%s/%s" (include "kcp-edge.redisTlsDir" .) $tls.certKey) }}{{ end -}}
{{- if $tls.keyKey }}{{ $_ := set $files "keyFile" (printf "%s/%s" (include "kcp-edge.redisTlsDir" .) $tls.keyKey) }}{{ end -}}
{{- $given := default dict $redis.tls -}}
{{- range $field, $_ := $files -}}
{{- if hasKey $given $field -}}
{{- fail (printf "config.gateway.routing.redis.tls.%s: leave it out, redis.tls sets it to the mounted file" $field) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $redis "tls" (merge $files $given) -}}
{{- end -}}
{{- end -}}
{{- if and $auth.sentinelPasswordKey (not $auth.existingSecret) -}}
{{- fail "redis.sentinelPasswordKey names a key of redis.existingSecret, which is not set" -}}
{{- end -}}
{{- if ne (empty $tls.certKey) (empty $tls.keyKey) -}}
{{- fail "redis.tls.certKey and redis.tls.keyKey go together (a client certificate and its key)" -}}
{{- end -}}
{{- if .Values.admin.enabled -}}
{{- if hasKey $config "admin" -}}
{{- fail "config.gateway.admin: leave it out, the admin values set it (admin.enabled, admin.port, admin.tokensSecret, admin.clientCASecret)" -}}
{{- end -}}
{{- if and (not .Values.admin.tokensSecret) (not .Values.admin.clientCASecret) -}}
{{- fail "admin.enabled needs admin.tokensSecret or admin.clientCASecret: the admin listener admits nobody anonymously" -}}
{{- end -}}
{{- $admin := dict "listen" (dict "address" "0.0.0.0" "port" (.Values.admin.port | int)) "group" .Values.admin.group -}}
{{- if .Values.admin.tokensSecret }}{{ $_ := set $admin "tokenFile" (printf "%s/%s" (include "kcp-edge.adminDir" .) .Values.admin.tokensKey) }}{{ end -}}
{{- if .Values.admin.clientCASecret }}{{ $_ := set $admin "clientCAFile" (printf "%s/ca/%s" (include "kcp-edge.adminDir" .) .Values.admin.clientCAKey) }}{{ end -}}
{{- $_ := set $config "admin" $admin -}}
{{- end -}}
{{- with .Values.audit -}}
{{- if .enabled -}}
{{- if hasKey $config "audit" -}}
{{- fail "config.gateway.audit: leave it out, the audit values set it (audit.enabled, audit.policy, audit.log, audit.webhook)" -}}
{{- end -}}
{{- if and (not .log.enabled) (not .webhook.url) -}}
{{- fail "audit.enabled needs a backend: audit.log.enabled or audit.webhook.url" -}}
{{- end -}}
{{- $audit := dict "policyFile" (printf "%s/policy.yaml" (include "kcp-edge.auditPolicyDir" $)) "maxObjectBytes" (.maxObjectBytes | int) -}}
{{- if .log.enabled -}}
{{- $_ := set $audit "log" (dict "path" (printf "%s/audit.log" (include "kcp-edge.auditLogDir" $)) "maxSizeMB" (.log.maxSizeMB | int) "maxBackups" (.log.maxBackups | int)) -}}
{{- end -}}
{{- with .webhook -}}
{{- if .url -}}
{{- $webhook := dict "url" .url "bufferSize" (.bufferSize | int) "batchMaxSize" (.batchMaxSize | int) "batchMaxWaitSeconds" .batchMaxWaitSeconds -}}
{{- if .caBundleKey -}}
{{- if not (include "kcp-edge.hasCaBundles" $) -}}
{{- fail "audit.webhook.caBundleKey names a key of caBundles, which has none" -}}
{{- end -}}
{{- $_ := set $webhook "caFile" (printf "/var/run/kcp-edge/ca/%s" .caBundleKey) -}}
{{- end -}}
{{- if .tokenSecret }}{{ $_ := set $webhook "tokenFile" (printf "%s/%s" (include "kcp-edge.auditWebhookTokenDir" $) .tokenKey) }}{{ end -}}
{{- $_ := set $audit "webhook" $webhook -}}
{{- else if .tokenSecret -}}
{{- fail "audit.webhook.tokenSecret is for the webhook: set audit.webhook.url" -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "audit" $audit -}}
{{- end -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{- define "kcp-edge.auditPolicyDir" -}}/var/run/kcp-edge/audit-policy{{- end -}}
{{- define "kcp-edge.auditLogDir" -}}/var/log/kcp-edge{{- end -}}
{{- define "kcp-edge.auditWebhookTokenDir" -}}/var/run/kcp-edge/audit-webhook{{- end -}}

{{/* The audit policy: the values' own, or the one kcp-edge ships. */}}
{{- define "kcp-edge.auditPolicy" -}}
{{- if .Values.audit.policy -}}
{{- toYaml .Values.audit.policy -}}
{{- else -}}
{{- .Files.Get "files/audit-policy.yaml" -}}
{{- end -}}
{{- end -}}

{{/* The audit log's volume: the values' source, or an emptyDir holding the file, its backups and one more. */}}
{{- define "kcp-edge.auditLogVolume" -}}
{{- with .Values.audit.log -}}
{{- if .volume -}}
{{- toYaml .volume -}}
{{- else -}}
emptyDir:
  sizeLimit: {{ mul (add .maxBackups 2) .maxSizeMB }}Mi
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Redis Secret volumes of the gateway pod: only the keys the gateway reads. */}}
{{- define "kcp-edge.redisVolumes" -}}
{{- with .Values.redis }}
{{- if .existingSecret }}
- name: redis-auth
  secret:
    secretName: {{ .existingSecret }}
    items:
      - key: {{ .passwordKey }}
        path: {{ .passwordKey }}
      {{- if .sentinelPasswordKey }}
      - key: {{ .sentinelPasswordKey }}
        path: {{ .sentinelPasswordKey }}
      {{- end }}
{{- end }}
{{- if .tls.existingSecret }}
- name: redis-tls
  secret:
    secretName: {{ .tls.existingSecret }}
    items:
      {{- range list .tls.caKey .tls.certKey .tls.keyKey | compact }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "kcp-edge.redisVolumeMounts" -}}
{{- if .Values.redis.existingSecret }}
- name: redis-auth
  mountPath: {{ include "kcp-edge.redisAuthDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.redis.tls.existingSecret }}
- name: redis-tls
  mountPath: {{ include "kcp-edge.redisTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}
