{{/* Chart name, truncated to 63 characters (DNS-1123 label). */}}
{{- define "reflex.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "reflex.fullname" -}}
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

{{- define "reflex.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of the release. */}}
{{- define "reflex.labels" -}}
helm.sh/chart: {{ include "reflex.chart" . }}
{{ include "reflex.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the daemon's pods; never change them on upgrade. */}}
{{- define "reflex.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reflex.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "reflex.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "reflex.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "reflex.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The lease the replicas elect a leader with. */}}
{{- define "reflex.leaseName" -}}
{{- default (include "reflex.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
The enabled bundled rules and the mode each runs in, as YAML (name: enforce|audit): those of
bundledRules.rules in enforce mode unless bundledRules.modes says otherwise, and those named in
bundledRules.modes in their mode. Empty when bundledRules.enabled is false.
*/}}
{{- define "reflex.bundledModes" -}}
{{- $modes := dict }}
{{- if .Values.bundledRules.enabled }}
{{- range .Values.bundledRules.rules }}
{{- $_ := set $modes . "enforce" }}
{{- end }}
{{- range $name, $mode := (.Values.bundledRules.modes | default dict) }}
{{- $_ := set $modes $name $mode }}
{{- end }}
{{- end }}
{{- toYaml $modes }}
{{- end }}

{{/*
The ClusterRole rules of the enabled bundled rules: for each, what `reflex rbac rules/NAME.yaml`
prints (files/rbac.json, written by `npm run gen`), duplicates removed; a rule in audit mode writes
nothing, so it gets only the reading verbs (get, list, watch). Empty when none is enabled.
*/}}
{{- define "reflex.bundledClusterRules" -}}
{{- $generated := $.Files.Get "files/rbac.json" | fromJson }}
{{- $rules := list }}
{{- range $name, $mode := (include "reflex.bundledModes" . | fromYaml) }}
{{- range (get $generated.rules $name) }}
{{- if eq $mode "audit" }}
{{- $verbs := list }}
{{- range .verbs }}
{{- if has . (list "get" "list" "watch") }}
{{- $verbs = append $verbs . }}
{{- end }}
{{- end }}
{{- if $verbs }}
{{- $rules = append $rules (merge (dict "verbs" $verbs) (omit . "verbs")) }}
{{- end }}
{{- else }}
{{- $rules = append $rules . }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml (dict "rules" (uniq $rules)) }}
{{- end }}

{{/* The daemon's Role in its own namespace (files/rbac.json): rule ConfigMaps, the Lease, Events. */}}
{{- define "reflex.namespaceRules" -}}
{{- toYaml (dict "rules" ($.Files.Get "files/rbac.json" | fromJson).namespaceRole) }}
{{- end }}

{{/*
The daemon's reflex.yaml (config/reflex.yaml documents every field): the chart's settings, with
.Values.config merged over them. Rule ConfigMaps, the Lease and Events live in the release
namespace; the daemon finishes running work 5 s before the pod's grace period ends.
*/}}
{{- define "reflex.config" -}}
{{- $paths := list }}
{{- $audit := list }}
{{- range $name, $mode := (include "reflex.bundledModes" . | fromYaml) }}
{{- $paths = append $paths (printf "/app/rules/%s.yaml" $name) }}
{{- if eq $mode "audit" }}
{{- $audit = append $audit $name }}
{{- end }}
{{- end }}
{{- $grace := sub (int .Values.terminationGracePeriodSeconds) 5 }}
{{- $cfg := dict
  "namespace" .Release.Namespace
  "rules" (dict
    "paths" $paths
    "audit" $audit
    "configMaps" (dict "enabled" true "namespaces" (list .Release.Namespace) "labelSelector" "reflex.dev/rules=true"))
  "dryRun" .Values.dryRun
  "leaderElection" (dict
    "enabled" .Values.leaderElection.enabled
    "leaseName" (include "reflex.leaseName" .)
    "leaseNamespace" .Release.Namespace
    "leaseDuration" .Values.leaderElection.leaseDuration
    "renewDeadline" .Values.leaderElection.renewDeadline
    "retryPeriod" .Values.leaderElection.retryPeriod)
  "metrics" (dict "address" (printf ":%v" .Values.metrics.port))
  "health" (dict "address" (printf ":%v" .Values.health.port))
  "traces" (dict "address" (ternary (printf ":%v" .Values.traces.port) (printf "127.0.0.1:%v" .Values.traces.port) .Values.traces.expose))
  "log" (dict "level" .Values.log.level "format" .Values.log.format)
  "shutdown" (dict "gracePeriodSeconds" (max 1 $grace))
}}
{{- if .Values.sharding.enabled }}
{{- $_ := set $cfg "sharding" (dict
    "enabled" true
    "ringName" (printf "%s-shard" (include "reflex.fullname" . | trunc 44 | trimSuffix "-"))
    "buckets" .Values.sharding.buckets
    "leaseDuration" .Values.sharding.leaseDuration
    "renewDeadline" .Values.sharding.renewDeadline
    "retryPeriod" .Values.sharding.retryPeriod) }}
{{- end }}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.config)) }}
{{- end }}
