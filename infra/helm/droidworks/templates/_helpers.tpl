{{/* Names and labels shared by every object of the release. */}}
{{- define "droidworks.fullname" -}}
{{ .Release.Name }}-droidworks
{{- end }}

{{- define "droidworks.labels" -}}
app.kubernetes.io/name: droidworks
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: droidworks-{{ .Chart.Version }}
{{- end }}

{{- define "droidworks.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "droidworks.secretName" -}}
{{ default (include "droidworks.fullname" .) .Values.existingSecret }}
{{- end }}
