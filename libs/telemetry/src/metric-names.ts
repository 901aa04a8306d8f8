/**
 * Metric names are an interface: dashboards and alerts depend on them. Every name used anywhere comes from here.
 */
export const METRIC = {
  imageDuration: 'argus_image_duration_seconds',
  stageDuration: 'argus_stage_duration_seconds',
  inferenceDuration: 'argus_inference_duration_seconds',
  gatewayRequestDuration: 'argus_gateway_request_duration_seconds',
  imageInputBytes: 'argus_image_input_bytes',
  imageInputPixels: 'argus_image_input_pixels',
  inferenceTokens: 'argus_inference_tokens_total',
  inflight: 'argus_inflight',
  inferencePhase: 'argus_inference_phase_seconds',
  cascadeEscalations: 'argus_cascade_escalations_total',
  cacheLookups: 'argus_cache_lookups_total',
  moderationDecisions: 'argus_moderation_decisions_total',
  modelOutputNormalisations: 'argus_model_output_normalisations_total',
  reviewOutcomes: 'argus_review_outcomes_total',
  webhookDeliveries: 'argus_webhook_deliveries_total',
  // Messaging, from the services' side.
  natsConnected: 'argus_nats_connected',
  natsReconnects: 'argus_nats_reconnects_total',
  natsRequestDuration: 'argus_nats_request_duration_seconds',
  jetstreamConsumerPending: 'argus_jetstream_consumer_pending',
  jetstreamConsumerAckPending: 'argus_jetstream_consumer_ack_pending',
  jetstreamConsumerRedelivered: 'argus_jetstream_consumer_redelivered',
  deadLetters: 'argus_dead_letter_messages',
  // Tiers and Ollama, polled by each worker.
  tierUp: 'argus_tier_up',
  tierBreakerOpen: 'argus_tier_breaker_open',
  ollamaLoadedModels: 'argus_ollama_loaded_models',
  ollamaModelVram: 'argus_ollama_model_vram_bytes',
} as const;

export const STAGES = [
  'download',
  'decode',
  'normalise',
  'store',
  'fetch',
  'resize',
  'inference',
  'validate',
  'postprocess',
] as const;
export type Stage = (typeof STAGES)[number];

/** LLM calls take seconds to minutes; prom-client's default buckets stop at 10 s. */
export const LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600,
];

export const BYTES_BUCKETS = [16e3, 64e3, 256e3, 1e6, 4e6, 16e6, 64e6];
export const PIXEL_BUCKETS = [0.25e6, 1e6, 2e6, 4e6, 8e6, 12e6, 24e6, 50e6];

/** Label value for dimensions that do not apply, e.g. the model of a gateway request. */
export const NOT_APPLICABLE = 'none';
