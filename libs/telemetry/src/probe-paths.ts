/**
 * Probe and scrape endpoints. They are hit every few seconds, so neither traces nor the request log record them.
 * Kept free of imports: the OTel preload reads it before anything else loads.
 */
const PROBE_PATHS: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz']);

/** True for a probe or scrape URL, with or without a query string. */
export function isProbePath(url: string | undefined): boolean {
  return PROBE_PATHS.has((url ?? '').split('?')[0] ?? '');
}
