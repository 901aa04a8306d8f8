{{/*
The Deployment of one Argus service (the gateway or a worker), from the one image:
(dict "root" $ "component" "gateway" "svc" .Values.gateway "port" .Values.gateway.port "env" (include ...)).
Non-root, read-only root filesystem with an emptyDir on /tmp, probes on /healthz and /readyz, spread over zones
and nodes, and rolled when a config file changes.
*/}}
{{- define "argus.deployment" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $component := .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "argus.componentName" (dict "root" $root "suffix" $component "kind" "Deployment") }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "argus.componentLabels" (dict "root" $root "component" $component) | nindent 4 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ int $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "argus.selectorLabels" (dict "root" $root "component" $component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "argus.selectorLabels" (dict "root" $root "component" $component) | nindent 8 }}
        {{- with $root.Values.common.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "argus.configChecksum" $root }}
        {{- with $root.Values.common.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "argus.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $root.Values.common.priorityClassName }}
      priorityClassName: {{ $root.Values.common.priorityClassName }}
      {{- end }}
      terminationGracePeriodSeconds: {{ int $root.Values.common.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $root.Values.common.podSecurityContext | nindent 8 }}
      {{- with $root.Values.common.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.common.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.common.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- include "argus.topologySpread" (dict "root" $root "component" $component) | indent 6 }}
      containers:
        - name: {{ $component }}
          image: {{ include "argus.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            - {{ $component }}
          ports:
            - name: http
              containerPort: {{ int .port }}
              protocol: TCP
          env:
            {{- include "argus.commonEnv" (dict "root" $root "component" $component) | nindent 12 }}
            {{- .env | nindent 12 }}
            {{- with $root.Values.common.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $svc.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ int $root.Values.common.probes.startupPeriodSeconds }}
            failureThreshold: {{ int $root.Values.common.probes.startupFailureThreshold }}
            timeoutSeconds: 2
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ int $root.Values.common.probes.readinessPeriodSeconds }}
            timeoutSeconds: {{ int $root.Values.common.probes.readinessTimeoutSeconds }}
            failureThreshold: {{ int $root.Values.common.probes.readinessFailureThreshold }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ int $root.Values.common.probes.livenessPeriodSeconds }}
            timeoutSeconds: {{ int $root.Values.common.probes.livenessTimeoutSeconds }}
            failureThreshold: {{ int $root.Values.common.probes.livenessFailureThreshold }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.common.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: config
              mountPath: /etc/argus/config
              readOnly: true
            {{- if and $root.Values.secrets.nats.existingSecret (or $root.Values.secrets.nats.credsKey $root.Values.secrets.nats.nkeySeedKey) }}
            - name: nats-credentials
              mountPath: /etc/argus/nats
              readOnly: true
            {{- end }}
            {{- if and $root.Values.secrets.natsTls.enabled $root.Values.secrets.natsTls.existingSecret }}
            - name: nats-tls
              mountPath: /etc/argus/nats-tls
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.common.tmpSizeLimit }}
        - name: config
          configMap:
            name: {{ include "argus.componentName" (dict "root" $root "suffix" "config" "kind" "ConfigMap") }}
        {{- with $root.Values.secrets.nats }}
        {{- if and .existingSecret (or .credsKey .nkeySeedKey) }}
        - name: nats-credentials
          secret:
            secretName: {{ .existingSecret }}
            items:
              {{- range $key := list .credsKey .nkeySeedKey }}
              {{- if $key }}
              - key: {{ $key }}
                path: {{ $key }}
              {{- end }}
              {{- end }}
        {{- end }}
        {{- end }}
        {{- with $root.Values.secrets.natsTls }}
        {{- if and .enabled .existingSecret }}
        - name: nats-tls
          secret:
            secretName: {{ .existingSecret }}
            items:
              {{- range $key := list .caKey .certKey .keyKey }}
              {{- if $key }}
              - key: {{ $key }}
                path: {{ $key }}
              {{- end }}
              {{- end }}
        {{- end }}
        {{- end }}
{{- end -}}
