import { ArgusError, type TaskRequest } from '@argus/contracts';
import type { ImageLimits, ImageProcessor, NormalisedImage } from '@argus/imaging';
import type { SafeFetcher } from '@argus/url-intake';
import { inSpan, type ArgusMetrics } from '@argus/telemetry';
import type { AnalyzeInput } from './analyze-input';

// What /v1/analyze and batch jobs do alike with one image: fetch it by URL, normalise it, and describe it to the
// workers as one TaskRequest. Storing differs (bucket, key, TTL), so each caller stores for itself.

export type ImageNormaliser = Pick<ImageProcessor, 'normalise'>;
export type ImageDownloader = Pick<SafeFetcher, 'fetch'>;
/** The caller's options of an analysis, without the image itself. */
export type AnalysisOptions = Omit<AnalyzeInput, 'bytes' | 'imageUrl'>;

/** Fetches an `imageUrl` through the SSRF-safe fetcher, timed as the `download` stage. */
export async function downloadImage(
  downloader: ImageDownloader | null,
  metrics: ArgusMetrics,
  url: string,
  signal: AbortSignal,
): Promise<Buffer> {
  if (!downloader) throw new ArgusError('INVALID_REQUEST', 'this gateway does not fetch images by URL');
  const fetched = await metrics.timeStage('download', () =>
    inSpan('download image', { attributes: { 'url.full': url.slice(0, 512) } }, () =>
      downloader.fetch(url, signal),
    ),
  );
  return fetched.bytes;
}

/** EXIF orientation, metadata stripped, long side capped; decode and normalise recorded as stages. */
export async function normaliseImage(
  processor: ImageNormaliser,
  metrics: ArgusMetrics,
  bytes: Uint8Array,
  limits: ImageLimits,
  knownSha256?: string,
): Promise<NormalisedImage> {
  const image = await inSpan('normalise image', {}, () => processor.normalise(bytes, limits, knownSha256));
  metrics.recordStage('decode', image.timings.decodeMs / 1000);
  metrics.recordStage('normalise', image.timings.normaliseMs / 1000);
  return image;
}

/** The message a worker gets for a stored image: its reference, the routing and every option the caller set. */
export function taskRequestFor(
  requestId: string,
  options: AnalysisOptions,
  stored: { bucket: string; key: string },
  image: Pick<NormalisedImage, 'sha256' | 'width' | 'height' | 'mime'>,
): TaskRequest {
  return {
    requestId,
    routing: options.routing,
    options: options.options,
    image: {
      ...stored,
      sha256: image.sha256,
      width: image.width,
      height: image.height,
      mime: image.mime,
    },
  };
}
