{{/* Labels every operator object carries (the kustomize base uses the same). */}}
{{- define "llmops.labels" -}}
app.kubernetes.io/name: llmops
app.kubernetes.io/component: operator
{{- end }}
