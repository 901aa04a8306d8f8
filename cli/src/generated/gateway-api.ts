// Generated from docs/openapi.json by `npm run openapi` (scripts/openapi.ts, openapi-typescript): do not edit.
// cli/src/gateway-api.ts reads these types; services/gateway/src/openapi.spec.ts fails when this file is stale.
/* eslint-disable */

export interface paths {
    "/v1/analyze": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Analyze one image
         * @description The image arrives as a multipart form (file in field `image`, or an `imageUrl` field), as JSON (`imageBase64` or `imageUrl`), or as a raw `image/*` or `application/octet-stream` body whose options travel in the query string (query parameters apply to the raw form only).
         */
        post: operations["analyzeImage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List jobs
         * @description The caller's tenant's jobs (every job while keys are off), newest first, each with its state and progress as `GET /v1/jobs/{id}` counts them, without the items. Pages follow `nextCursor`, a keyset position, so jobs created meanwhile neither shift nor repeat a page. A listing reads the metadata of at most 5000 jobs (all tenants, the most recently written); `truncated` says when there were more, and older jobs may then be missing.
         */
        get: operations["listJobs"];
        put?: never;
        /**
         * Create a job
         * @description A batch of up to 1000 images as JSON (`items`, each with `imageUrl` or `imageBase64`) or as a multipart form with the files in field `images`. Items without an id get `item-N`.
         */
        post: operations["createJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job id. */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Get a job
         * @description The job's state, counts and a page of its items with their results.
         */
        get: operations["getJob"];
        put?: never;
        post?: never;
        /**
         * Cancel a job
         * @description Asynchronous: items already in a worker finish, the rest are recorded `cancelled`.
         */
        delete: operations["cancelJob"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reviews": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the review queue
         * @description Oldest first; pending entries unless `status` says otherwise.
         */
        get: operations["listReviews"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reviews/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The review id. */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Get a review
         * @description The entry with what a reviewer needs: the model's evidence (boxes and quotes in pixels of the stored image), the policy's thresholds for each category found, and the OCR lines when the job read the text; `evidence` is null once the results have expired.
         */
        get: operations["getReview"];
        put?: never;
        /**
         * Resolve a review
         * @description A person's decision, `allow` or `block`; 409 CONFLICT when the review was already resolved.
         */
        post: operations["resolveReview"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reviews/{id}/image": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The review id. */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Get a review's image
         * @description The stored (normalised) image, for the reviewer; private, never cached by shared caches.
         */
        get: operations["getReviewImage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/whoami": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who am I
         * @description The calling key's id, tenant, scopes and default policy, and the policies and profiles a request may name. Any valid key may call it, whatever its scopes; with keys off it says so.
         */
        get: operations["whoami"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List tiers and models
         * @description Each worker's view of every tier, regrouped by tier; workers that did not answer are listed.
         */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness probe */
        get: operations["liveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe
         * @description Ready when NATS and the workers answer; 503 with the same body otherwise.
         */
        get: operations["readiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Prometheus text format, or OpenMetrics when the Accept header asks for it.
         */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document, as JSON */
        get: operations["openApiJson"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.yaml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document, as YAML */
        get: operations["openApiYaml"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A browsable API reference */
        get: operations["apiReference"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs/{asset}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A file of the reference's page
         * @description Swagger UI (swagger-ui-dist) and the script that starts it; nothing else is served here.
         */
        get: operations["apiReferenceAsset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/console": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The web console
         * @description A page for reviewers and operators; public, as it holds no data: it signs in with an API key kept in the browser session and sends it with every data call.
         */
        get: operations["console"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/console/{asset}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A file of the console's page
         * @description The console's own modules and stylesheet, and Preact and htm from their npm packages.
         */
        get: operations["consoleAsset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AttributeJsonSchema: {
            /** @enum {string} */
            type: "string" | "number" | "integer" | "boolean" | "array" | "object";
            description?: string;
            enum?: (string | number)[];
            minimum?: number;
            maximum?: number;
            maxLength?: number;
            items?: components["schemas"]["AttributeJsonSchema"];
            maxItems?: number;
            properties?: {
                [key: string]: components["schemas"]["AttributeJsonSchema"];
            };
            required?: string[];
            /** @constant */
            additionalProperties?: false;
        };
        AnalyzeJsonBody: {
            imageBase64?: string;
            imageUrl?: string;
            tasks?: ("moderation" | "tagging" | "ocr" | "describe")[] | string;
            /** @enum {string} */
            tier?: "auto" | "cpu" | "small" | "medium" | "large";
            fallback?: boolean | ("true" | "false");
            profile?: string;
            policy?: string;
            /** @enum {string} */
            pii?: "off" | "flag" | "redact";
            /** @enum {string} */
            ocrMode?: "document" | "label" | "scene";
            categories?: string[];
            attributeSchemas?: {
                [key: string]: components["schemas"]["AttributeJsonSchema"];
            };
            listing?: {
                title?: string;
                /** @description a category path, e.g. apparel/shoes */
                category?: string;
                colour?: string;
                brand?: string;
                /** @description pack size or amount, e.g. "500 ml", "2 pack" */
                quantity?: string;
            };
            question?: string;
            language?: string;
        } & (unknown | unknown);
        AnalyzeForm: {
            imageUrl?: string;
            tasks?: ("moderation" | "tagging" | "ocr" | "describe")[] | string;
            /** @enum {string} */
            tier?: "auto" | "cpu" | "small" | "medium" | "large";
            fallback?: boolean | ("true" | "false");
            profile?: string;
            policy?: string;
            /** @enum {string} */
            pii?: "off" | "flag" | "redact";
            /** @enum {string} */
            ocrMode?: "document" | "label" | "scene";
            categories?: string[];
            attributeSchemas?: {
                [key: string]: components["schemas"]["AttributeJsonSchema"];
            };
            listing?: {
                title?: string;
                /** @description a category path, e.g. apparel/shoes */
                category?: string;
                colour?: string;
                brand?: string;
                /** @description pack size or amount, e.g. "500 ml", "2 pack" */
                quantity?: string;
            };
            question?: string;
            language?: string;
            /** @description The image file; send it or `imageUrl`, not both. */
            image?: Blob;
        } & (unknown | unknown);
        CreateJobBody: {
            items: {
                id?: string;
                imageBase64?: string;
                imageUrl?: string;
            }[];
            tasks?: ("moderation" | "tagging" | "ocr" | "describe")[] | string;
            /** @enum {string} */
            tier?: "auto" | "cpu" | "small" | "medium" | "large";
            fallback?: boolean | ("true" | "false");
            profile?: string;
            policy?: string;
            /** @enum {string} */
            pii?: "off" | "flag" | "redact";
            /** @enum {string} */
            ocrMode?: "document" | "label" | "scene";
            categories?: string[];
            attributeSchemas?: {
                [key: string]: components["schemas"]["AttributeJsonSchema"];
            };
            listing?: {
                title?: string;
                /** @description a category path, e.g. apparel/shoes */
                category?: string;
                colour?: string;
                brand?: string;
                /** @description pack size or amount, e.g. "500 ml", "2 pack" */
                quantity?: string;
            };
            question?: string;
            language?: string;
            callbackUrl?: string;
            notify?: ("block" | "review")[];
        };
        JobForm: {
            tasks?: ("moderation" | "tagging" | "ocr" | "describe")[] | string;
            /** @enum {string} */
            tier?: "auto" | "cpu" | "small" | "medium" | "large";
            fallback?: boolean | ("true" | "false");
            profile?: string;
            policy?: string;
            /** @enum {string} */
            pii?: "off" | "flag" | "redact";
            /** @enum {string} */
            ocrMode?: "document" | "label" | "scene";
            categories?: string[];
            attributeSchemas?: {
                [key: string]: components["schemas"]["AttributeJsonSchema"];
            };
            listing?: {
                title?: string;
                /** @description a category path, e.g. apparel/shoes */
                category?: string;
                colour?: string;
                brand?: string;
                /** @description pack size or amount, e.g. "500 ml", "2 pack" */
                quantity?: string;
            };
            question?: string;
            language?: string;
            callbackUrl?: string;
            notify?: ("block" | "review")[];
            /** @description The images, one file part each; an item id is taken from each filename. */
            images: Blob[];
        };
        ResolveReviewBody: {
            /** @enum {string} */
            decision: "allow" | "block";
            reviewer: string;
            note?: string;
        };
        AnalyzeResponse: {
            id: string;
            traceId: string;
            image: {
                /** @description sha256 of the bytes as uploaded */
                sha256: string;
                /** @description width after orientation and the long-side cap */
                width: number;
                height: number;
                /**
                 * @description type sniffed from the uploaded bytes
                 * @enum {string}
                 */
                format: "jpeg" | "png" | "webp" | "gif" | "tiff" | "avif";
                /** @description size of the upload in bytes */
                bytes: number;
            };
            results: components["schemas"]["AnalyzeResults"];
        };
        AnalyzeResults: {
            moderation?: {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "ok";
                cached: boolean;
                /** @description fields or categories this tier could not judge; a GPU tier can */
                needsGpuTier: string[];
                /** @enum {string} */
                decision: "allow" | "review" | "block";
                policy: string;
                /** @description the categories that produced the decision */
                triggeredBy: string[];
                /** @description the categories found: each at or above the policy's review threshold for it */
                categories: {
                    /** @description category id from the taxonomy, or custom.<n> for custom rule n */
                    id: ("sexual.explicit" | "sexual.suggestive" | "sexual.swimwear" | "sexual.underwear" | "violence.graphic" | "violence.fighting" | "weapons.firearms" | "weapons.knives" | "drugs.illegal" | "drugs.paraphernalia" | "drugs.tobacco" | "alcohol.beverages" | "gambling.games" | "hate.symbols" | "self_harm.depiction" | "gestures.rude" | "minors.unsafe_context" | "text.contact_info" | "marketplace.watermark") | string;
                    confidence: number;
                    evidence: {
                        /** @description one short sentence: what in the image shows this */
                        rationale: string;
                        /** @description the exact text, when the evidence is text in the image */
                        quote?: string;
                        /** @description where in the image, in pixels, when you can tell */
                        box?: {
                            x: number;
                            y: number;
                            width: number;
                            height: number;
                        };
                    };
                }[];
                /** @description weak readings that did not count: below the policy's review threshold, or below the evidence the engine needs for that category (docs/moderation.md); not found, not in triggeredBy, not in the decision */
                signals?: {
                    /** @description category id from the taxonomy, or custom.<n> for custom rule n */
                    id: ("sexual.explicit" | "sexual.suggestive" | "sexual.swimwear" | "sexual.underwear" | "violence.graphic" | "violence.fighting" | "weapons.firearms" | "weapons.knives" | "drugs.illegal" | "drugs.paraphernalia" | "drugs.tobacco" | "alcohol.beverages" | "gambling.games" | "hate.symbols" | "self_harm.depiction" | "gestures.rude" | "minors.unsafe_context" | "text.contact_info" | "marketplace.watermark") | string;
                    confidence: number;
                    evidence: {
                        /** @description one short sentence: what in the image shows this */
                        rationale: string;
                        /** @description the exact text, when the evidence is text in the image */
                        quote?: string;
                        /** @description where in the image, in pixels, when you can tell */
                        box?: {
                            x: number;
                            y: number;
                            width: number;
                            height: number;
                        };
                    };
                }[];
                reason: string;
                confidence: number;
                /** @description notes on the answer, e.g. a model's percent confidence (85) read as 0.85 before validation; absent when none */
                warnings?: string[];
            } | {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "error";
                error: {
                    /** @enum {string} */
                    code: "INVALID_REQUEST" | "URL_NOT_ALLOWED" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IMAGE_DECODE_FAILED" | "RATE_LIMITED" | "INTERNAL" | "INVALID_MODEL_OUTPUT" | "URL_FETCH_FAILED" | "MODEL_UNAVAILABLE" | "UPSTREAM_BUSY" | "SERVICE_UNAVAILABLE" | "INFERENCE_TIMEOUT";
                    message: string;
                    retryAfterSeconds?: number;
                };
            };
            tagging?: {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "ok";
                cached: boolean;
                /** @description fields or categories this tier could not judge; a GPU tier can */
                needsGpuTier: string[];
                category: string | null;
                attributes: {
                    [key: string]: string;
                };
                attributeSources: {
                    [key: string]: "measured" | "ocr" | "model";
                };
                customAttributes: {
                    schema: string;
                    values: {
                        [key: string]: unknown;
                    };
                } | null;
                colours: {
                    name: string;
                    hex: string;
                    share: number;
                }[];
                quality: {
                    width: number;
                    height: number;
                    exposure: {
                        meanLuminance: number;
                        shadowsClipped: number;
                        highlightsClipped: number;
                        /** @enum {string} */
                        verdict: "under" | "ok" | "over";
                    };
                    sharpness: {
                        laplacianVariance: number;
                        /** @enum {string} */
                        verdict: "blurry" | "ok";
                    };
                };
                condition: ("new" | "like_new" | "used" | "damaged" | "unknown") | null;
                defects: {
                    /** @description scratch, dent, stain, tear, crack, missing_part, discolouration, ... */
                    type: string;
                    /** @enum {string} */
                    severity: "minor" | "major" | "critical";
                    confidence: number;
                    /** @description where the defect is, in pixels, when you can tell */
                    box?: {
                        x: number;
                        y: number;
                        width: number;
                        height: number;
                    };
                }[];
                photo: {
                    /** @description how many separate products for sale the photo shows */
                    productCount: number;
                    /** @description true when the photo shows props or accessories that are not part of the product */
                    props: boolean;
                    /** @description true when the image is a placeholder, a drawing or stock artwork instead of a photo of the item */
                    placeholder: boolean;
                } | null;
                consistency?: {
                    passed: boolean;
                    checks: {
                        /** @enum {string} */
                        field: "title" | "category" | "colour" | "brand" | "quantity";
                        expected: string;
                        observed: string | null;
                        matches: boolean | null;
                        /** @enum {string} */
                        judgedBy: "measured" | "ocr" | "model" | "none";
                        message: string;
                    }[];
                };
                /** @description faces in the photo (BlazeFace + face mesh on the CPU); null when the detector failed, absent from older answers */
                people?: {
                    /** @description how many faces both detector stages are sure of */
                    faces: number;
                    /** @description one box per face, strongest first, in pixels of the stored (normalised) image */
                    boxes: {
                        x: number;
                        y: number;
                        width: number;
                        height: number;
                        /** @description the detector score of the face box */
                        confidence: number;
                    }[];
                    /** @constant */
                    engine: "blazeface";
                } | null;
                confidence: number | null;
                /** @description notes on the answer, e.g. a model's percent confidence (85) read as 0.85 before validation; absent when none */
                warnings?: string[];
                compliance: {
                    profile: string;
                    passed: boolean;
                    checks: {
                        /** @enum {string} */
                        id: "background_white" | "fill_ratio" | "min_resolution" | "sharpness" | "exposure" | "border" | "text_overlay" | "no_person" | "single_product" | "no_props" | "not_placeholder";
                        passed: boolean;
                        value: number | string | boolean;
                        threshold: number | string | boolean;
                        message: string;
                    }[];
                };
            } | {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "error";
                error: {
                    /** @enum {string} */
                    code: "INVALID_REQUEST" | "URL_NOT_ALLOWED" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IMAGE_DECODE_FAILED" | "RATE_LIMITED" | "INTERNAL" | "INVALID_MODEL_OUTPUT" | "URL_FETCH_FAILED" | "MODEL_UNAVAILABLE" | "UPSTREAM_BUSY" | "SERVICE_UNAVAILABLE" | "INFERENCE_TIMEOUT";
                    message: string;
                    retryAfterSeconds?: number;
                };
            };
            ocr?: {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "ok";
                cached: boolean;
                /** @description fields or categories this tier could not judge; a GPU tier can */
                needsGpuTier: string[];
                text: string;
                lines: {
                    text: string;
                    confidence?: number;
                    /** @description pixels of the stored (normalised) image */
                    box?: {
                        x: number;
                        y: number;
                        width: number;
                        height: number;
                    };
                    words?: {
                        text: string;
                        confidence: number;
                        /** @description pixels of the stored (normalised) image */
                        box: {
                            x: number;
                            y: number;
                            width: number;
                            height: number;
                        };
                    }[];
                }[];
                /** @description mean word confidence on the CPU tier; null for vision models */
                confidence: number | null;
                /** @enum {string} */
                mode: "document" | "label" | "scene";
                language: {
                    code: string;
                    confidence: number | null;
                };
                keyValues: {
                    /** @description the label as printed, e.g. "Best before", "LOT", "Total" */
                    key: string;
                    /** @description the value as printed */
                    value: string;
                    line?: number;
                    /**
                     * @description text: parsed from the read lines; model: a vision model extracted it
                     * @enum {string}
                     */
                    source: "text" | "model";
                }[];
                tables: {
                    /** @description rows of cells, header row first, as printed */
                    rows: string[][];
                }[];
                /** @description how the page was turned, on the CPU tier; boxes stay in pixels of the stored image as sent */
                orientation?: {
                    /** @description degrees the page was turned clockwise from upright; the text was read turned back */
                    angle: 0 | 90 | 180 | 270;
                    confidence: number;
                };
                /** @description notes on the answer, e.g. a model's percent confidence (85) read as 0.85 before validation; absent when none */
                warnings?: string[];
                pii?: {
                    /** @enum {string} */
                    kind: "email" | "phone" | "iban";
                    line: number;
                    quote?: string;
                }[];
            } | {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "error";
                error: {
                    /** @enum {string} */
                    code: "INVALID_REQUEST" | "URL_NOT_ALLOWED" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IMAGE_DECODE_FAILED" | "RATE_LIMITED" | "INTERNAL" | "INVALID_MODEL_OUTPUT" | "URL_FETCH_FAILED" | "MODEL_UNAVAILABLE" | "UPSTREAM_BUSY" | "SERVICE_UNAVAILABLE" | "INFERENCE_TIMEOUT";
                    message: string;
                    retryAfterSeconds?: number;
                };
            };
            describe?: {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "ok";
                cached: boolean;
                /** @description fields or categories this tier could not judge; a GPU tier can */
                needsGpuTier: string[];
                /** @description one sentence; on the CPU tier built only from what was measured */
                caption: string;
                altText: string;
                tags: string[];
                /** @description BCP 47 tag of the text */
                language: string;
                /** @description present when the request asked a question; null when this tier cannot answer it */
                answer: {
                    question: string;
                    /** @description the answer, from what is visible only; "unknown" when the image does not show it */
                    text: string;
                    /** @description null when the engine has no calibrated confidence */
                    confidence: number | null;
                } | null;
                confidence: number | null;
                /** @description notes on the answer, e.g. a model's percent confidence (85) read as 0.85 before validation; absent when none */
                warnings?: string[];
            } | {
                /** @enum {string} */
                engine: "ollama" | "cpu" | "none";
                tier: ("cpu" | "small" | "medium" | "large") | "none";
                model: string;
                durationMs: number;
                /** @description the hops `auto` took, cheapest first */
                escalations: {
                    /** @enum {string} */
                    from: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    to: "cpu" | "small" | "medium" | "large";
                    /** @enum {string} */
                    reason: "low_confidence" | "review" | "cannot_judge" | "unavailable" | "breaker_open" | "failed";
                    detail?: string;
                }[];
                /** @constant */
                status: "error";
                error: {
                    /** @enum {string} */
                    code: "INVALID_REQUEST" | "URL_NOT_ALLOWED" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IMAGE_DECODE_FAILED" | "RATE_LIMITED" | "INTERNAL" | "INVALID_MODEL_OUTPUT" | "URL_FETCH_FAILED" | "MODEL_UNAVAILABLE" | "UPSTREAM_BUSY" | "SERVICE_UNAVAILABLE" | "INFERENCE_TIMEOUT";
                    message: string;
                    retryAfterSeconds?: number;
                };
            };
        };
        Problem: {
            type: string;
            title: string;
            status: number;
            detail: string;
            code: string;
            traceId: string;
            instance?: string;
            errors?: {
                field: string;
                message: string;
            }[];
            results?: components["schemas"]["AnalyzeResults"];
        };
        JobCreated: {
            jobId: string;
            /** @enum {string} */
            status: "queued" | "running" | "completed" | "cancelled";
            items: {
                id: string;
                /** @enum {string} */
                status: "queued" | "failed";
                error?: {
                    /** @enum {string} */
                    code: "INVALID_REQUEST" | "URL_NOT_ALLOWED" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IMAGE_DECODE_FAILED" | "RATE_LIMITED" | "INTERNAL" | "INVALID_MODEL_OUTPUT" | "URL_FETCH_FAILED" | "MODEL_UNAVAILABLE" | "UPSTREAM_BUSY" | "SERVICE_UNAVAILABLE" | "INFERENCE_TIMEOUT";
                    message: string;
                    retryAfterSeconds?: number;
                };
            }[];
        };
        JobStatus: {
            jobId: string;
            /** @enum {string} */
            status: "queued" | "running" | "completed" | "cancelled";
            createdAt: string;
            tasks: ("moderation" | "tagging" | "ocr" | "describe")[];
            counts: {
                total: number;
                done: number;
                failed: number;
                dead: number;
                cancelled: number;
                pending: number;
            };
            percent: number;
            items: {
                id: string;
                /** @enum {string} */
                status: "pending" | "done" | "failed" | "dead" | "cancelled";
                results: {
                    [key: string]: unknown;
                };
                errors: {
                    /** @enum {string} */
                    code: "INVALID_REQUEST" | "URL_NOT_ALLOWED" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IMAGE_DECODE_FAILED" | "RATE_LIMITED" | "INTERNAL" | "INVALID_MODEL_OUTPUT" | "URL_FETCH_FAILED" | "MODEL_UNAVAILABLE" | "UPSTREAM_BUSY" | "SERVICE_UNAVAILABLE" | "INFERENCE_TIMEOUT";
                    message: string;
                    retryAfterSeconds?: number;
                    /** @enum {string} */
                    task: "moderation" | "tagging" | "ocr" | "describe";
                    /** @enum {string} */
                    state: "failed" | "dead";
                }[];
                review?: {
                    /** @enum {string} */
                    decision: "allow" | "block";
                    reviewer: string;
                    note?: string;
                    resolvedAt: string;
                };
            }[];
            page: {
                number: number;
                size: number;
                totalItems: number;
            };
            callbackUrl?: string;
            cancelledAt?: string;
            webhooks?: {
                eventId: string;
                /** @enum {string} */
                type: "job.completed" | "item.decided";
                itemId?: string;
                delivered: boolean;
                attempts: {
                    attempt: number;
                    at: string;
                    status?: number;
                    error?: string;
                    durationMs: number;
                }[];
            }[];
        };
        JobSummary: {
            jobId: string;
            /** @enum {string} */
            status: "queued" | "running" | "completed" | "cancelled";
            createdAt: string;
            tasks: ("moderation" | "tagging" | "ocr" | "describe")[];
            counts: {
                total: number;
                done: number;
                failed: number;
                dead: number;
                cancelled: number;
                pending: number;
            };
            percent: number;
            callbackUrl?: string;
            cancelledAt?: string;
            /** @description how many items the job holds */
            itemCount: number;
        };
        JobList: {
            jobs: components["schemas"]["JobSummary"][];
            /** @description pass as `cursor` to get the next page; absent on the last page */
            nextCursor?: string;
            /** @description true when the job bucket held more than 5000 jobs (all tenants together): only the most recently written were read, so older jobs may be missing here (each stays reachable by its id) */
            truncated: boolean;
        };
        Review: {
            id: string;
            jobId: string;
            itemId: string;
            tenant?: string;
            /** @enum {string} */
            reason: "policy" | "audit";
            /** @enum {string} */
            status: "pending" | "resolved";
            policy: string;
            /** @enum {string} */
            modelDecision: "allow" | "review" | "block";
            categories: string[];
            modelReason: string;
            confidence: number;
            tier: string;
            model: string;
            createdAt: string;
            imageUrl: string;
            resolution?: {
                /** @enum {string} */
                decision: "allow" | "block";
                reviewer: string;
                note?: string;
                resolvedAt: string;
            };
        };
        ReviewList: {
            reviews: components["schemas"]["Review"][];
            page: {
                number: number;
                size: number;
                total: number;
            };
        };
        ReviewDetail: {
            id: string;
            jobId: string;
            itemId: string;
            tenant?: string;
            /** @enum {string} */
            reason: "policy" | "audit";
            /** @enum {string} */
            status: "pending" | "resolved";
            policy: string;
            /** @enum {string} */
            modelDecision: "allow" | "review" | "block";
            categories: string[];
            modelReason: string;
            confidence: number;
            tier: string;
            model: string;
            createdAt: string;
            imageUrl: string;
            resolution?: {
                /** @enum {string} */
                decision: "allow" | "block";
                reviewer: string;
                note?: string;
                resolvedAt: string;
            };
            evidence: {
                /** @description the categories the model found, with their evidence */
                categories: {
                    /** @description category id from the taxonomy, or custom.<n> for custom rule n */
                    id: ("sexual.explicit" | "sexual.suggestive" | "sexual.swimwear" | "sexual.underwear" | "violence.graphic" | "violence.fighting" | "weapons.firearms" | "weapons.knives" | "drugs.illegal" | "drugs.paraphernalia" | "drugs.tobacco" | "alcohol.beverages" | "gambling.games" | "hate.symbols" | "self_harm.depiction" | "gestures.rude" | "minors.unsafe_context" | "text.contact_info" | "marketplace.watermark") | string;
                    confidence: number;
                    evidence: {
                        /** @description one short sentence: what in the image shows this */
                        rationale: string;
                        /** @description the exact text, when the evidence is text in the image */
                        quote?: string;
                        /** @description where in the image, in pixels, when you can tell */
                        box?: {
                            x: number;
                            y: number;
                            width: number;
                            height: number;
                        };
                    };
                }[];
                /** @description weak readings under the policy's review threshold */
                signals: {
                    /** @description category id from the taxonomy, or custom.<n> for custom rule n */
                    id: ("sexual.explicit" | "sexual.suggestive" | "sexual.swimwear" | "sexual.underwear" | "violence.graphic" | "violence.fighting" | "weapons.firearms" | "weapons.knives" | "drugs.illegal" | "drugs.paraphernalia" | "drugs.tobacco" | "alcohol.beverages" | "gambling.games" | "hate.symbols" | "self_harm.depiction" | "gestures.rude" | "minors.unsafe_context" | "text.contact_info" | "marketplace.watermark") | string;
                    confidence: number;
                    evidence: {
                        /** @description one short sentence: what in the image shows this */
                        rationale: string;
                        /** @description the exact text, when the evidence is text in the image */
                        quote?: string;
                        /** @description where in the image, in pixels, when you can tell */
                        box?: {
                            x: number;
                            y: number;
                            width: number;
                            height: number;
                        };
                    };
                }[];
                reason: string;
                policyDescription?: string;
                /** @description the policy's thresholds for each category found (the id's own, its family's, or `*`) */
                thresholds: {
                    [key: string]: {
                        /** @description at or above this confidence the category blocks; absent: it never blocks */
                        block?: number;
                        /** @description at or above this confidence the category goes to review */
                        review?: number;
                    };
                };
                /** @description categories or families the policy never counts */
                allowedByPolicy: string[];
                /** @description the item's OCR lines, when the job ran OCR */
                ocrLines?: {
                    text: string;
                    confidence?: number;
                    box?: {
                        x: number;
                        y: number;
                        width: number;
                        height: number;
                    };
                }[];
            } | null;
        };
        Whoami: {
            /** @description false when the gateway has no API keys configured: every route is open to anyone who reaches it */
            authEnabled: boolean;
            /** @description the id of the key that called; null when keys are off */
            keyId: string | null;
            /** @description the key's tenant: it sees only its own jobs and reviews; null when keys are off */
            tenant: string | null;
            /** @description the route groups the key may call; all of them when keys are off */
            scopes: ("analyze" | "jobs" | "reviews" | "ops")[];
            /** @description the moderation policy of requests that name none: the key's own, else the gateway's default */
            policy: string;
            /** @description the moderation policies a request may name */
            policies: string[];
            /** @description the listing-compliance profiles a request may name */
            profiles: string[];
            /** @description the profile used when a request names none */
            defaultProfile: string;
        };
        ModelsView: {
            tiers: {
                /** @enum {string} */
                tier: "cpu" | "small" | "medium" | "large";
                /** @enum {string} */
                engine: "ollama" | "cpu";
                url: string | null;
                vramBudgetGiB: number | null;
                concurrency: number;
                models: {
                    model: string;
                    /** @enum {string} */
                    status: "ready" | "missing" | "no-vision" | "unreachable" | "warming" | "disabled";
                    detail: string;
                    loaded: boolean;
                    /** @description bytes of VRAM the loaded model uses, from /api/ps */
                    sizeVram: number | null;
                    vramEstimateGiB: number | null;
                    promptVersion: string;
                    /** @enum {string} */
                    breaker: "closed" | "open" | "half-open";
                    /** @enum {string} */
                    task: "moderation" | "tagging" | "ocr" | "describe";
                }[];
            }[];
            unreachable: {
                /** @enum {string} */
                task: "moderation" | "tagging" | "ocr" | "describe";
                detail: string;
            }[];
        };
        Liveness: {
            /** @constant */
            status: "ok";
        };
        ReadinessReport: {
            ready: boolean;
            checks: {
                [key: string]: {
                    ok: boolean;
                    detail: string;
                };
            };
        };
        WebhookEvent: {
            id: string;
            /** @constant */
            type: "job.completed";
            jobId: string;
            /** @enum {string} */
            status: "completed" | "cancelled";
            counts: {
                total: number;
                done: number;
                failed: number;
                dead: number;
                cancelled: number;
            };
            resultsUrl: string;
            at: string;
        } | {
            id: string;
            /** @constant */
            type: "item.decided";
            jobId: string;
            itemId: string;
            /** @enum {string} */
            task: "moderation" | "tagging" | "ocr" | "describe";
            /** @enum {string} */
            decision: "allow" | "review" | "block";
            policy: string;
            categories: string[];
            reason: string;
            at: string;
        };
    };
    responses: {
        /** @description RFC 9457 problem details; `code` is one of `INVALID_REQUEST`, `URL_NOT_ALLOWED`. */
        Problem400: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `UNAUTHORIZED`. */
        Problem401: {
            headers: {
                "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `FORBIDDEN`. */
        Problem403: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `NOT_FOUND`. */
        Problem404: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `CONFLICT`. */
        Problem409: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `IMAGE_TOO_LARGE`. */
        Problem413: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `UNSUPPORTED_MEDIA_TYPE`. */
        Problem415: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `IMAGE_DECODE_FAILED`. */
        Problem422: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `RATE_LIMITED`. Retryable codes come with Retry-After (5 s unless the error knows better). */
        Problem429: {
            headers: {
                /** @description Seconds to wait before retrying. */
                "Retry-After": number;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `INTERNAL`. */
        Problem500: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `INVALID_MODEL_OUTPUT`, `URL_FETCH_FAILED`. */
        Problem502: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `MODEL_UNAVAILABLE`, `UPSTREAM_BUSY`, `SERVICE_UNAVAILABLE`. Retryable codes come with Retry-After (5 s unless the error knows better). */
        Problem503: {
            headers: {
                /** @description Seconds to wait before retrying. */
                "Retry-After": number;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 9457 problem details; `code` is one of `INFERENCE_TIMEOUT`. */
        Problem504: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description Requests the API key may send per window (when keys are configured). */
        "RateLimit-Limit": number;
        /** @description Requests left in the current window. */
        "RateLimit-Remaining": number;
        /** @description Seconds until the window resets. */
        "RateLimit-Reset": number;
        /** @description `Bearer realm="argus"`. */
        "WWW-Authenticate": string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    analyzeImage: {
        parameters: {
            query?: {
                /** @description Tasks to run: a JSON array, or a comma list in forms and query strings. All four when absent. */
                tasks?: ("moderation" | "tagging" | "ocr" | "describe")[] | string;
                /** @description Which tier runs the tasks; `auto` (the default) starts on the cheapest tier that can judge. */
                tier?: "auto" | "cpu" | "small" | "medium" | "large";
                /** @description Whether a failing tier may hand over to the next one (`true`/`false`); false when absent. */
                fallback?: boolean | ("true" | "false");
                /** @description A listing-compliance profile name (tagging). */
                profile?: string;
                /** @description A moderation policy name; the API key's policy or the default when absent. */
                policy?: string;
                /** @description OCR: `flag` or `redact` personal data (e-mail, phone, IBAN) in the text. */
                pii?: "off" | "flag" | "redact";
                /** @description OCR: `document`, `label` or `scene`. */
                ocrMode?: "document" | "label" | "scene";
                /** @description Tagging: the caller's own category list, as a JSON array or a comma list. */
                categories?: string[];
                /** @description Tagging: JSON schemas for open-vocabulary attributes, keyed by category path (JSON text). */
                attributeSchemas?: string;
                /** @description Tagging: what the listing says (title, category, colour, brand, quantity), as JSON text. */
                listing?: string;
                /** @description Describe: a question about the image, answered from what is visible only. */
                question?: string;
                /** @description Describe: the language of the caption, alt text and answer (BCP 47); English when absent. */
                language?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["AnalyzeForm"];
                /**
                 * @example {
                 *       "imageUrl": "https://images.example.com/sku-1001.jpg",
                 *       "tasks": [
                 *         "moderation",
                 *         "tagging"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["AnalyzeJsonBody"];
                "image/*": Blob;
                "application/octet-stream": Blob;
            };
        };
        responses: {
            /** @description The results of each task; a task that failed carries its error, the others still answer. */
            200: {
                headers: {
                    /** @description The analysis id (`id` of the body). */
                    "X-Request-Id": string;
                    /** @description The trace id (`traceId` of the body). */
                    "X-Trace-Id": string;
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "e58ab09d-38a2-4ae8-a366-acebb2d873cd",
                     *       "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                     *       "image": {
                     *         "sha256": "d12660b0028b27432ba8fff056a23143c70fdebe177ea05460e368ccb647d2f9",
                     *         "width": 1200,
                     *         "height": 1200,
                     *         "format": "jpeg",
                     *         "bytes": 37651
                     *       },
                     *       "results": {
                     *         "moderation": {
                     *           "status": "ok",
                     *           "engine": "ollama",
                     *           "tier": "small",
                     *           "model": "qwen2.5vl:3b",
                     *           "durationMs": 3856.2,
                     *           "cached": false,
                     *           "needsGpuTier": [],
                     *           "escalations": [
                     *             {
                     *               "from": "cpu",
                     *               "to": "small",
                     *               "reason": "cannot_judge",
                     *               "detail": "sexual.swimwear, weapons.knives"
                     *             }
                     *           ],
                     *           "decision": "allow",
                     *           "policy": "default",
                     *           "triggeredBy": [],
                     *           "categories": [],
                     *           "reason": "A navy storage box printed ACME on a white background.",
                     *           "confidence": 0.93
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["AnalyzeResponse"];
                };
            };
            400: components["responses"]["Problem400"];
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            413: components["responses"]["Problem413"];
            415: components["responses"]["Problem415"];
            422: components["responses"]["Problem422"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            502: components["responses"]["Problem502"];
            503: components["responses"]["Problem503"];
            504: components["responses"]["Problem504"];
        };
    };
    listJobs: {
        parameters: {
            query?: {
                /** @description Jobs per page, at most 50. */
                limit?: number;
                /** @description `nextCursor` of the previous page, as is; absent for the first page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of jobs. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "jobs": [
                     *         {
                     *           "jobId": "3f0c9a6e-6c1b-4d1e-9f6a-2b0f1c7d9e11",
                     *           "status": "running",
                     *           "createdAt": "2026-12-06T21:29:12.000Z",
                     *           "tasks": [
                     *             "moderation"
                     *           ],
                     *           "counts": {
                     *             "total": 2,
                     *             "done": 1,
                     *             "failed": 0,
                     *             "dead": 0,
                     *             "cancelled": 0,
                     *             "pending": 1
                     *           },
                     *           "percent": 50,
                     *           "itemCount": 2,
                     *           "callbackUrl": "https://shop.example.com/argus-webhook"
                     *         },
                     *         {
                     *           "jobId": "9b2d4e1a-0c7f-4a8e-b6d3-5e1f2a3b4c5d",
                     *           "status": "cancelled",
                     *           "createdAt": "2026-12-06T20:02:45.000Z",
                     *           "tasks": [
                     *             "moderation",
                     *             "tagging"
                     *           ],
                     *           "counts": {
                     *             "total": 3,
                     *             "done": 1,
                     *             "failed": 0,
                     *             "dead": 0,
                     *             "cancelled": 2,
                     *             "pending": 0
                     *           },
                     *           "percent": 100,
                     *           "itemCount": 3,
                     *           "cancelledAt": "2026-12-06T20:03:10.000Z"
                     *         }
                     *       ],
                     *       "nextCursor": "WyIyMDI2LTEyLTA2VDIwOjAyOjQ1LjAwMFoiLCI5YjJkNGUxYS0wYzdmLTRhOGUtYjZkMy01ZTFmMmEzYjRjNWQiXQ",
                     *       "truncated": false
                     *     }
                     */
                    "application/json": components["schemas"]["JobList"];
                };
            };
            400: components["responses"]["Problem400"];
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    createJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "items": [
                 *         {
                 *           "id": "sku-1001",
                 *           "imageUrl": "https://images.example.com/sku-1001.jpg"
                 *         },
                 *         {
                 *           "id": "sku-1002",
                 *           "imageUrl": "https://images.example.com/sku-1002.jpg"
                 *         }
                 *       ],
                 *       "tasks": [
                 *         "moderation"
                 *       ],
                 *       "callbackUrl": "https://shop.example.com/argus-webhook",
                 *       "notify": [
                 *         "block"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["CreateJobBody"];
                "multipart/form-data": components["schemas"]["JobForm"];
            };
        };
        responses: {
            /** @description Accepted; items that could not be taken in are `failed` with their error. */
            202: {
                headers: {
                    /** @description The job, `/v1/jobs/{jobId}`. */
                    Location: string;
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "jobId": "3f0c9a6e-6c1b-4d1e-9f6a-2b0f1c7d9e11",
                     *       "status": "queued",
                     *       "items": [
                     *         {
                     *           "id": "sku-1001",
                     *           "status": "queued"
                     *         },
                     *         {
                     *           "id": "sku-1002",
                     *           "status": "failed",
                     *           "error": {
                     *             "code": "URL_FETCH_FAILED",
                     *             "message": "images.example.com answered HTTP 404"
                     *           }
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["JobCreated"];
                };
            };
            400: components["responses"]["Problem400"];
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            413: components["responses"]["Problem413"];
            415: components["responses"]["Problem415"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    getJob: {
        parameters: {
            query?: {
                /** @description The page of items, from 1. */
                page?: number;
                /** @description Items per page. */
                pageSize?: number;
            };
            header?: never;
            path: {
                /** @description The job id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobStatus"];
                };
            };
            400: components["responses"]["Problem400"];
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            404: components["responses"]["Problem404"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job, as cancelling. */
            202: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobStatus"];
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            404: components["responses"]["Problem404"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    listReviews: {
        parameters: {
            query?: {
                status?: "pending" | "resolved" | "all";
                policy?: string;
                category?: string;
                reason?: "policy" | "audit";
                jobId?: string;
                minAgeSeconds?: number;
                maxAgeSeconds?: number;
                page?: number;
                pageSize?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of reviews. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReviewList"];
                };
            };
            400: components["responses"]["Problem400"];
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    getReview: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The review id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The review. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReviewDetail"];
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            404: components["responses"]["Problem404"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    resolveReview: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The review id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "decision": "block",
                 *       "reviewer": "ana",
                 *       "note": "knife clearly visible"
                 *     }
                 */
                "application/json": components["schemas"]["ResolveReviewBody"];
            };
        };
        responses: {
            /** @description The resolved review. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Review"];
                };
            };
            400: components["responses"]["Problem400"];
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            404: components["responses"]["Problem404"];
            409: components["responses"]["Problem409"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    getReviewImage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The review id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The image bytes. */
            200: {
                headers: {
                    /** @description `private, max-age=300`. */
                    "Cache-Control": string;
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "image/*": Blob;
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            404: components["responses"]["Problem404"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            503: components["responses"]["Problem503"];
        };
    };
    whoami: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Whoami"];
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Tiers and models. */
            200: {
                headers: {
                    "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                    "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                    "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelsView"];
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
        };
    };
    liveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process runs. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": components["schemas"]["Liveness"];
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
        };
    };
    readiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "ready": true,
                     *       "checks": {
                     *         "nats": {
                     *           "ok": true,
                     *           "detail": "connected"
                     *         },
                     *         "moderation": {
                     *           "ok": true,
                     *           "detail": "worker answered"
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["ReadinessReport"];
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
            /** @description Not ready; `checks` says why. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReadinessReport"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The exposition. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                    "application/openmetrics-text": string;
                };
            };
            401: components["responses"]["Problem401"];
            403: components["responses"]["Problem403"];
            429: components["responses"]["Problem429"];
            500: components["responses"]["Problem500"];
        };
    };
    openApiJson: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description This document, as JSON */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
        };
    };
    openApiYaml: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description This document, as YAML */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/yaml": string;
                };
            };
        };
    };
    apiReference: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A browsable API reference */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
    apiReferenceAsset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The file name. */
                asset: "swagger-ui.css" | "swagger-ui-bundle.js" | "favicon-32x32.png" | "init.js";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/css": string;
                    "text/javascript": string;
                    "image/png": Blob;
                };
            };
            404: components["responses"]["Problem404"];
        };
    };
    console: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
    consoleAsset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The file name. */
                asset: "console.css" | "app.js" | "api.js" | "overlay.js" | "signin.js" | "reviews.js" | "analyse.js" | "jobs.js" | "preact.mjs" | "hooks.mjs" | "htm.mjs" | "htm-preact.mjs";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/css": string;
                    "text/javascript": string;
                };
            };
            404: components["responses"]["Problem404"];
        };
    };
}
