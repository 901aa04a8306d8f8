{{/*
Names, labels and the values several templates derive from. Values are read as full paths (.Values.a.b), through
variables bound from such paths, or through dict keys passed to a helper; test/support/helm-chart-assets.ts follows
exactly these three forms to check that every value is defined and used.
*/}}

{{- define "argus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-argus, or just <release> when it already contains the chart name. */}}
{{- define "argus.fullname" -}}
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

{{/*
The name of one of the chart's objects: (dict "root" $ "suffix" "gateway" "limit" 63) → <fullname>-<suffix> when
that fits `limit`, else the fullname cut short, the suffix and the first 8 hex digits of the sha256 of the whole
<fullname>-<suffix>: <fullname cut>-<suffix>-<hash>. The suffix stays whole (it says which component the object is),
the hash keeps two long release names that share their first characters apart, and the same release always gets the
same names. Every object name in templates/ comes from here, with the limit of its kind (argus.nameLimit).
*/}}
{{- define "argus.componentName" -}}
{{- $fullname := include "argus.fullname" .root -}}
{{- $name := printf "%s-%s" $fullname .suffix -}}
{{- $limit := int (include "argus.nameLimit" .kind) -}}
{{- if le (len $name) $limit -}}
{{- $name -}}
{{- else -}}
{{- $hash := sha256sum $name | trunc 8 -}}
{{- $keep := sub $limit (add (len .suffix) 10) -}}
{{- if lt $keep 1 -}}
{{- fail (printf "the object name suffix %q is too long to fit %d characters" .suffix $limit) -}}
{{- end -}}
{{- printf "%s-%s-%s" ($fullname | trunc (int $keep) | trimAll "-") .suffix $hash -}}
{{- end -}}
{{- end -}}

{{/*
The longest name each kind of object may take, and why:
- StatefulSet: 52. The controller labels its pods controller-revision-hash=<statefulset>-<hash>, the hash up to 10
  characters, and a label value is at most 63: a longer StatefulSet is accepted by the API but its pods are refused.
  63 - 1 - 10 = 52, which also leaves room for the pods' -<ordinal> in their 63-character hostnames.
- ScaledObject: 54. KEDA creates and owns an HPA named keda-hpa-<scaledobject>, labelled app.kubernetes.io/name with
  that name, and cuts the name to 63 characters (getHPAName in kedacore/keda controllers/keda/hpa.go): past 54 two
  ScaledObjects differing only at the end would share one HPA. 63 - len("keda-hpa-") = 54.
- everything else: 63. Services must be DNS-1035 labels (63 characters). Deployments, HPAs, PDBs, NetworkPolicies,
  ConfigMaps, ServiceMonitors and PrometheusRules may be DNS-1123 subdomains (253), but are held to the label length
  like the Services they go with, so that any of them can also appear as a label value or hostname.
*/}}
{{- define "argus.nameLimit" -}}
{{- $limits := dict "StatefulSet" 52 "ScaledObject" 54 -}}
{{- default 63 (get $limits (toString .)) -}}
{{- end -}}

{{- define "argus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "argus.labels" -}}
helm.sh/chart: {{ include "argus.chart" . }}
app.kubernetes.io/name: {{ include "argus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: argus
{{- if .Values.commonLabels }}
{{ toYaml .Values.commonLabels }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "argus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "argus.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's objects: (dict "root" $ "component" "gateway"). */}}
{{- define "argus.componentLabels" -}}
{{ include "argus.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "argus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "argus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Argus image: registry/repository:tag, or @digest when one is given. */}}
{{- define "argus.image" -}}
{{- $repository := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $repository = printf "%s/%s" .Values.image.registry .Values.image.repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "argus.ollamaImage" -}}
{{- if .Values.ollama.image.registry -}}
{{- printf "%s/%s:%s" .Values.ollama.image.registry .Values.ollama.image.repository .Values.ollama.image.tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.ollama.image.repository .Values.ollama.image.tag -}}
{{- end -}}
{{- end -}}

{{/*
The workers, one per task of the task registry (libs/contracts/src/tasks.ts): a worker's key under `workers` is its
task id, which is also its service name (Deployment and other objects <fullname>-<task>, metrics `service` label) and
its JetStream consumer's suffix. Workers are fixed: values.schema.json allows no other key under `workers`, and
test/support/deploy-lists.spec.ts checks this list against the registry.
*/}}
{{- define "argus.workerNames" -}}
moderation tagging ocr describe
{{- end -}}

{{/*
The worker key in values → its service name, failing on a key that is no worker. workers.productTagging was renamed
to workers.tagging in 0.2; values.schema.json still admits the old key so that this message is what a user sees.
*/}}
{{- define "argus.workerService" -}}
{{- if eq . "productTagging" -}}
{{- fail "values key workers.productTagging was renamed to workers.tagging in Argus 0.2; move your settings under workers.tagging (see Upgrading to 0.2 in docs/deploy.md)" -}}
{{- end -}}
{{- if not (has . (splitList " " (include "argus.workerNames" .))) -}}
{{- fail (printf "workers.%s is not an Argus worker; the workers are: %s" . (include "argus.workerNames" .)) -}}
{{- end -}}
{{- . -}}
{{- end -}}

{{/* The task a worker serves: its key, as its service name. */}}
{{- define "argus.workerTask" -}}
{{- include "argus.workerService" . -}}
{{- end -}}

{{/*
The bundled NATS's names, by the NATS chart's own rules (nats-io/k8s, helm/charts/nats/templates/_helpers.tpl, the
"nats.fullname" and "nats.defaultValues" helpers of the 1.x chart Chart.yaml pins). Its fullname is
nats.fullnameOverride cut to 63; else, with name = nats.nameOverride or "nats" (the chart's name), the release name
when it contains that name, or <release>-<name>, cut to 63, a trailing "-" dropped. Its client Service is
nats.service.name or that fullname, its headless Service nats.headlessService.name or <fullname>-headless (neither cut).
*/}}
{{- define "argus.natsFullname" -}}
{{- if .Values.nats.fullnameOverride -}}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "nats" .Values.nats.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The NATS client Service (nats.service.name in the NATS chart). */}}
{{- define "argus.natsHost" -}}
{{- default (include "argus.natsFullname" .) .Values.nats.service.name -}}
{{- end -}}

{{/* The NATS headless Service (nats.headlessService.name in the NATS chart), which reaches every server. */}}
{{- define "argus.natsHeadlessHost" -}}
{{- default (printf "%s-headless" (include "argus.natsFullname" .)) .Values.nats.headlessService.name -}}
{{- end -}}

{{/*
Argus's NATS clients and the bundled server must agree. Nothing of secrets.natsTls or secrets.nats reaches the NATS
chart, so with nats.enabled the chart refuses client TLS unless the bundled server serves TLS
(nats.config.nats.tls.enabled with a secretName), and client credentials unless the bundled server authenticates
(nats.config.merge.authorization, .accounts or .operator, or nats.config.resolver.enabled): otherwise clients would
fail their TLS handshake, or send credentials a server that checks none ignores. Not checked when
secrets.nats.urlKey points Argus at another NATS. Rendered once, from configmap.yaml.
*/}}
{{- define "argus.checkNats" -}}
{{- if and .Values.nats.enabled (not (and .Values.secrets.nats.existingSecret .Values.secrets.nats.urlKey)) -}}
{{- if and .Values.secrets.natsTls.enabled (not .Values.nats.config.nats.tls.enabled) -}}
{{- fail "secrets.natsTls.enabled makes Argus connect to NATS over TLS, but the bundled NATS (nats.enabled) does not serve TLS: set nats.config.nats.tls.enabled=true and nats.config.nats.tls.secretName to a Secret with tls.crt and tls.key for the server, or use your own NATS (nats.enabled=false with externalNats.url or secrets.nats.urlKey)" -}}
{{- end -}}
{{- $creds := list .Values.secrets.nats.credsKey .Values.secrets.nats.userKey .Values.secrets.nats.passwordKey .Values.secrets.nats.tokenKey .Values.secrets.nats.nkeySeedKey | compact -}}
{{- $merge := .Values.nats.config.merge -}}
{{- $serverAuth := or (hasKey $merge "authorization") (hasKey $merge "accounts") (hasKey $merge "operator") .Values.nats.config.resolver.enabled -}}
{{- if and .Values.secrets.nats.existingSecret $creds (not $serverAuth) -}}
{{- fail "secrets.nats gives Argus NATS credentials, but the bundled NATS (nats.enabled) checks none: configure its authentication through the NATS chart (nats.config.merge.authorization, nats.config.merge.accounts, or nats.config.resolver with an operator) to match those credentials, or use your own NATS (nats.enabled=false with externalNats.url or secrets.nats.urlKey)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "argus.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s.%s.svc:4222" (include "argus.natsHost" .) .Release.Namespace -}}
{{- else -}}
{{- required "externalNats.url is required when nats.enabled is false" .Values.externalNats.url -}}
{{- end -}}
{{- end -}}

{{/* KEDA's nats-jetstream trigger reads /jsz from the servers' monitoring port through the headless Service. */}}
{{- define "argus.natsMonitoringEndpoint" -}}
{{- if .Values.jobs.natsMonitoringEndpoint -}}
{{- .Values.jobs.natsMonitoringEndpoint -}}
{{- else -}}
{{- printf "%s.%s.svc.cluster.local:8222" (include "argus.natsHeadlessHost" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* The enabled GPU tiers as ARGUS_TIERS wants them, cheapest first; "cpu" alone when there is none. */}}
{{- define "argus.enabledTiers" -}}
{{- $enabled := list -}}
{{- range $name := list "small" "medium" "large" -}}
{{- $tier := index $.Values.ollama.tiers $name -}}
{{- if $tier.enabled -}}
{{- $enabled = append $enabled $name -}}
{{- end -}}
{{- end -}}
{{- if $enabled -}}
{{- join "," $enabled -}}
{{- else -}}
cpu
{{- end -}}
{{- end -}}

{{/*
The model catalog the workers load: config.modelCatalog or the shipped file, with each enabled GPU tier's runner
settings taken from ollama.tiers so that the catalog's concurrency and VRAM estimate match the Ollama the chart runs.
*/}}
{{- define "argus.modelCatalog" -}}
{{- $catalog := dict -}}
{{- if .Values.config.modelCatalog -}}
{{- $catalog = fromYaml .Values.config.modelCatalog -}}
{{- else -}}
{{- $catalog = fromYaml (.Files.Get "files/config/model-catalog.yaml") -}}
{{- end -}}
{{- if not (hasKey $catalog "tiers") -}}
{{- fail "the model catalog has no tiers (config.modelCatalog, or files/config/model-catalog.yaml missing: run scripts/sync-chart-assets.mjs)" -}}
{{- end -}}
{{- range $name, $tier := .Values.ollama.tiers -}}
{{- if $tier.enabled -}}
{{- $spec := index $catalog.tiers $name -}}
{{- if not $spec -}}
{{- fail (printf "the model catalog has no %s tier" $name) -}}
{{- end -}}
{{- $_ := set $spec "parallel" (int $tier.numParallel) -}}
{{- $_ = set $spec "replicas" (int $tier.replicas) -}}
{{- /* One spare call per Ollama pod, as ARGUS_TIER_<NAME>_CONCURRENCY: (numParallel + 1) × replicas slots in all. */ -}}
{{- $_ = set $spec "spare" (int $tier.replicas) -}}
{{- $_ = set $spec "contextLength" (int $tier.contextLength) -}}
{{- $_ = set $spec "keepAlive" (toString $tier.keepAlive) -}}
{{- $_ = set $spec "vramBudgetGiB" $tier.vramBudgetGiB -}}
{{- end -}}
{{- end -}}
{{- toYaml $catalog -}}
{{- end -}}

{{/* The models one tier's init container pulls: the catalog's models of the tier plus extraModels, once each. */}}
{{- define "argus.tierModels" -}}
{{- $catalog := fromYaml (include "argus.modelCatalog" .root) -}}
{{- $spec := index $catalog.tiers .name -}}
{{- $models := list -}}
{{- range $task, $entry := $spec.tasks -}}
{{- $models = append $models $entry.model -}}
{{- end -}}
{{- $tier := .tier -}}
{{- range $model := $tier.extraModels -}}
{{- $models = append $models $model -}}
{{- end -}}
{{- $models | uniq | sortAlpha | join " " -}}
{{- end -}}

{{/* The config files, exactly as the ConfigMap holds them (also hashed into the pods' checksum annotation). */}}
{{- define "argus.configFiles" -}}
model-catalog.yaml: |
{{ include "argus.modelCatalog" . | indent 2 }}
moderation-policies.yaml: |
{{ default (.Files.Get "files/config/moderation-policies.yaml") .Values.config.moderationPolicies | indent 2 }}
listing-profiles.yaml: |
{{ default (.Files.Get "files/config/listing-profiles.yaml") .Values.config.listingProfiles | indent 2 }}
product-categories.yaml: |
{{ default (.Files.Get "files/config/product-categories.yaml") .Values.config.productCategories | indent 2 }}
{{- end -}}

{{/* Topology spread constraints of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "argus.topologySpread" -}}
{{- $root := .root -}}
{{- $component := .component -}}
{{- if $root.Values.common.topologySpread.enabled }}
topologySpreadConstraints:
{{- range $key := $root.Values.common.topologySpread.topologyKeys }}
  - maxSkew: {{ $root.Values.common.topologySpread.maxSkew }}
    topologyKey: {{ $key }}
    whenUnsatisfiable: {{ $root.Values.common.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "argus.selectorLabels" (dict "root" $root "component" $component) | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment every service gets: (dict "root" $ "component" "gateway"). */}}
{{- define "argus.commonEnv" -}}
{{- $root := .root -}}
- name: ARGUS_SERVICE
  value: argus-{{ .component }}
- name: OTEL_SERVICE_NAME
  value: argus-{{ .component }}
- name: HOST
  value: 0.0.0.0
{{- /* Workers keep answers this long; the gateway remembers uploads as long, for its cache-only fast path. */}}
- name: ARGUS_CACHE_TTL_SECONDS
  value: {{ int64 $root.Values.workerConfig.cacheTtlSeconds | quote }}
{{- if and $root.Values.secrets.nats.existingSecret $root.Values.secrets.nats.urlKey }}
- name: NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.secrets.nats.existingSecret }}
      key: {{ $root.Values.secrets.nats.urlKey }}
{{- else }}
- name: NATS_URL
  value: {{ include "argus.natsUrl" $root | quote }}
{{- end }}
{{- with $root.Values.secrets.nats }}
{{- if and .existingSecret .credsKey }}
- name: NATS_CREDS
  value: /etc/argus/nats/{{ .credsKey }}
{{- end }}
{{- if and .existingSecret .nkeySeedKey }}
- name: NATS_NKEY_SEED_FILE
  value: /etc/argus/nats/{{ .nkeySeedKey }}
{{- end }}
{{- range $variable, $key := dict "NATS_USER" .userKey "NATS_PASSWORD" .passwordKey "NATS_TOKEN" .tokenKey }}
{{- if and $root.Values.secrets.nats.existingSecret $key }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.secrets.nats.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- with $root.Values.secrets.natsTls }}
{{- if .enabled }}
- name: NATS_TLS
  value: "true"
{{- if and .existingSecret .caKey }}
- name: NATS_TLS_CA
  value: /etc/argus/nats-tls/{{ .caKey }}
{{- end }}
{{- if and .existingSecret .certKey .keyKey }}
- name: NATS_TLS_CERT
  value: /etc/argus/nats-tls/{{ .certKey }}
- name: NATS_TLS_KEY
  value: /etc/argus/nats-tls/{{ .keyKey }}
{{- end }}
{{- end }}
{{- end }}
- name: LOG_LEVEL
  value: {{ $root.Values.common.logLevel | quote }}
- name: ARGUS_IMAGE_TTL_SECONDS
  value: {{ int64 $root.Values.common.imageTtlSeconds | quote }}
{{- if ge (int64 $root.Values.common.retentionSeconds) 0 }}
- name: ARGUS_RETENTION
  value: {{ int64 $root.Values.common.retentionSeconds | quote }}
{{- end }}
- name: ARGUS_JOB_TTL_SECONDS
  value: {{ int64 $root.Values.jobs.ttlSeconds | quote }}
- name: ARGUS_JOB_MAX_DELIVER
  value: {{ int64 $root.Values.jobs.maxDeliver | quote }}
- name: ARGUS_JOB_ACK_WAIT_MS
  value: {{ int64 $root.Values.jobs.ackWaitMs | quote }}
- name: ARGUS_JOB_DUPLICATE_WINDOW_SECONDS
  value: {{ int64 $root.Values.jobs.duplicateWindowSeconds | quote }}
- name: ARGUS_MODEL_CATALOG
  value: /etc/argus/config/model-catalog.yaml
- name: ARGUS_MODERATION_POLICIES
  value: /etc/argus/config/moderation-policies.yaml
- name: ARGUS_LISTING_PROFILES
  value: /etc/argus/config/listing-profiles.yaml
- name: ARGUS_PRODUCT_CATEGORIES
  value: /etc/argus/config/product-categories.yaml
{{- if $root.Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- if $root.Values.telemetry.tracesSampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $root.Values.telemetry.tracesSampler | quote }}
{{- end }}
{{- if $root.Values.telemetry.tracesSamplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $root.Values.telemetry.tracesSamplerArg | quote }}
{{- end }}
{{- end -}}

{{/* Environment of a worker: the tiers it may use, each tier's URL and concurrency, from ollama.tiers. */}}
{{- define "argus.workerEnv" -}}
{{- $root := .root -}}
- name: HTTP_PORT
  value: {{ int .port | quote }}
- name: ARGUS_PULL_MODELS
  value: {{ $root.Values.workerConfig.pullModels | quote }}
- name: ARGUS_TIER_CHECK_INTERVAL_MS
  value: {{ int64 $root.Values.workerConfig.tierCheckIntervalMs | quote }}
- name: ARGUS_SLOT_WAIT_MS
  value: {{ int64 $root.Values.workerConfig.slotWaitMs | quote }}
- name: ARGUS_SLOT_LEASE_TTL_MS
  value: {{ int64 $root.Values.workerConfig.slotLeaseTtlMs | quote }}
- name: ARGUS_TIERS
  value: {{ include "argus.enabledTiers" $root | quote }}
- name: ARGUS_JOB_CONCURRENCY
  value: {{ int64 $root.Values.jobs.workerConcurrency | quote }}
{{- range $name, $tier := $root.Values.ollama.tiers }}
{{- if $tier.enabled }}
- name: ARGUS_TIER_{{ upper $name }}_URL
  value: {{ printf "http://%s:%d" (include "argus.componentName" (dict "root" $root "suffix" (printf "ollama-%s" $name) "kind" "Service")) (int $root.Values.ollama.port) | quote }}
- name: ARGUS_TIER_{{ upper $name }}_CONCURRENCY
  value: {{ mul (add1 (int $tier.numParallel)) (int $tier.replicas) | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment of the gateway. */}}
{{- define "argus.gatewayEnv" -}}
- name: PORT
  value: {{ int .Values.gateway.port | quote }}
- name: ARGUS_MAX_IMAGE_BYTES
  value: {{ int64 .Values.gateway.maxImageBytes | quote }}
- name: ARGUS_MAX_IMAGE_PIXELS
  value: {{ int64 .Values.gateway.maxImagePixels | quote }}
- name: ARGUS_MAX_LONG_SIDE
  value: {{ int64 .Values.gateway.maxLongSide | quote }}
- name: ARGUS_REQUEST_TIMEOUT_MS
  value: {{ int64 .Values.gateway.requestTimeoutMs | quote }}
- name: ARGUS_UPLOAD_TIMEOUT_MS
  value: {{ int64 .Values.gateway.uploadTimeoutMs | quote }}
- name: ARGUS_READY_TIMEOUT_MS
  value: {{ int64 .Values.gateway.readyTimeoutMs | quote }}
- name: ARGUS_RATE_LIMIT_REQUESTS
  value: {{ int64 .Values.gateway.rateLimit.requests | quote }}
- name: ARGUS_RATE_LIMIT_PER_SECONDS
  value: {{ int64 .Values.gateway.rateLimit.perSeconds | quote }}
- name: ARGUS_REVIEW_AUDIT_RATE
  value: {{ .Values.jobs.reviewAuditRate | quote }}
{{- if .Values.jobs.publicUrl }}
- name: ARGUS_PUBLIC_URL
  value: {{ .Values.jobs.publicUrl | quote }}
{{- end }}
{{- if .Values.secrets.webhook.existingSecret }}
- name: ARGUS_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.webhook.existingSecret }}
      key: {{ .Values.secrets.webhook.key }}
{{- end }}
{{- if .Values.secrets.apiKeys.existingSecret }}
- name: ARGUS_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.apiKeys.existingSecret }}
      key: {{ .Values.secrets.apiKeys.key }}
{{- end }}
{{- end -}}

{{/* The checksum that rolls the pods when a config file changes. */}}
{{- define "argus.configChecksum" -}}
{{- include "argus.configFiles" . | sha256sum -}}
{{- end -}}
