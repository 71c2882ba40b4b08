{{/* Names and labels. */}}
{{- define "tdev.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tdev.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component: include "tdev.selector" (list $ "api") */}}
{{- define "tdev.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "tdev.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "tdev.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "tdev.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "tdev.hasSecret" -}}
{{- if or .Values.secrets.existingSecret .Values.secrets.create -}}true{{- end -}}
{{- end -}}

{{- define "tdev.serviceAccountName" -}}
{{- printf "%s-%s" (include "tdev.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{/* The media task queue of the session queue (core/names.ts mediaTaskQueue). */}}
{{- define "tdev.mediaTaskQueue" -}}
{{- printf "%s-media" .Values.temporal.taskQueue -}}
{{- end -}}

{{/* Environment shared by the API and the workers (runtime/config.ts). */}}
{{- define "tdev.commonEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: TEMPORAL_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
- name: TEMPORAL_UI_URL
  value: {{ .Values.temporal.uiUrl | quote }}
- name: AWS_REGION
  value: {{ .Values.aws.region | quote }}
- name: DYNAMODB_TABLE_PREFIX
  value: {{ .Values.dynamodb.tablePrefix | quote }}
{{- if .Values.blobs.s3Bucket }}
- name: BLOB_S3_BUCKET
  value: {{ .Values.blobs.s3Bucket | quote }}
- name: BLOB_S3_PREFIX
  value: {{ .Values.blobs.s3Prefix | quote }}
{{- else }}
- name: BLOB_DIR
  value: /tmp/blobs
{{- end }}
{{- if .Values.redis.url }}
- name: REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: NODE_OPTIONS
  value: --enable-source-maps
{{- $tls := .Values.temporal.tls }}
{{- if eq $tls.mode "mtls" }}
- name: TEMPORAL_TLS
  value: "true"
- name: TEMPORAL_TLS_CERT_FILE
  value: /etc/tdev/secrets/temporal-tls.crt
- name: TEMPORAL_TLS_KEY_FILE
  value: /etc/tdev/secrets/temporal-tls.key
{{- if .Values.secrets.temporalTlsCa }}
- name: TEMPORAL_TLS_CA_FILE
  value: /etc/tdev/secrets/temporal-ca.crt
{{- end }}
{{- else if eq $tls.mode "apiKey" }}
- name: TEMPORAL_TLS
  value: "true"
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "tdev.secretName" . }}
      key: temporal-api-key
{{- else if ne $tls.mode "none" }}
{{- fail (printf "temporal.tls.mode must be none, mtls or apiKey (got %q)" $tls.mode) }}
{{- end }}
{{- if $tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $tls.serverName | quote }}
{{- end }}
- name: PAYLOAD_ENCRYPTION
  value: {{ .Values.payloadEncryption.mode | quote }}
{{- if eq .Values.payloadEncryption.mode "kms" }}
- name: PAYLOAD_KMS_REGION
  value: {{ .Values.aws.region | quote }}
- name: PAYLOAD_KMS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "tdev.secretName" . }}
      key: payload-kms-key-id
{{- else if eq .Values.payloadEncryption.mode "key-file" }}
- name: PAYLOAD_KEY_RING_FILE
  value: /etc/tdev/secrets/payload-key-ring.json
{{- end }}
{{- end -}}

{{/* Checks that run on every render: settings that need the Secret. */}}
{{- define "tdev.validate" -}}
{{- $needsSecret := or (ne .Values.temporal.tls.mode "none") (has .Values.payloadEncryption.mode (list "kms" "key-file")) (not .Values.auth.jwksUrl) -}}
{{- if and $needsSecret (not (include "tdev.hasSecret" .)) -}}
{{- fail "secrets: set secrets.existingSecret (or secrets.create=true with values): Temporal TLS, the payload KMS key id or the API's token key need it" -}}
{{- end -}}
{{- end -}}

{{/* The Secret mounted read-only at /etc/tdev/secrets. */}}
{{- define "tdev.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "tdev.secretName" . }}
    defaultMode: 0440
    optional: false
{{- end -}}

{{/* A container's hardening, probes share this shape: include "tdev.probe" (list path port cfg) */}}
{{- define "tdev.probe" -}}
{{- $path := index . 0 -}}{{- $port := index . 1 -}}{{- $cfg := index . 2 -}}
httpGet:
  path: {{ $path }}
  port: {{ $port }}
periodSeconds: {{ $cfg.periodSeconds }}
timeoutSeconds: {{ $cfg.timeoutSeconds }}
failureThreshold: {{ $cfg.failureThreshold }}
{{- end -}}
