{{/*
The sync worker container, shared by the sidecar and the per-group Deployments.
Call with (dict "root" $ "configFile" "sync.yaml" "resources" $resources "standalone" bool). A sidecar has
no readiness probe: the gateway must not leave the Service while the worker waits for its initial lists.
*/}}
{{- define "kcp-edge.syncContainer" -}}
{{- $root := .root -}}
- name: sync
  image: {{ include "kcp-edge.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    - sync
    - --config
    - /etc/kcp-edge/{{ .configFile }}
    - --listen
    - 0.0.0.0:{{ $root.Values.sync.port }}
    {{- range $root.Values.sync.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  {{- with $root.Values.sync.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - name: sync-http
      containerPort: {{ $root.Values.sync.port }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /livez
      port: sync-http
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  {{- if .standalone }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: sync-http
    periodSeconds: 5
    timeoutSeconds: 2
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/kcp-edge
      readOnly: true
    {{- if include "kcp-edge.hasCaBundles" $root }}
    - name: ca-bundles
      mountPath: /var/run/kcp-edge/ca
      readOnly: true
    {{- end }}
    - name: tmp
      mountPath: /tmp
    {{- with include "kcp-edge.syncVolumeMounts" $root | trim }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end -}}
