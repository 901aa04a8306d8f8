import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { NormalisedImage } from '@argus/imaging';

/** What a worker needs to find a cached answer, and the client's `image` block: everything but the pixels. */
export type UploadDescription = Omit<NormalisedImage, 'data' | 'timings'>;

/** Uploads remembered per gateway replica; an entry is about 200 bytes, so the memo stays near 2 MB. */
const MAX_ENTRIES = 10_000;

/**
 * The gateway's memory of uploads it has normalised, by the sha256 of the bytes as sent. A repeated upload can then
 * ask the workers for their cached answers (a cache-only request) without being decoded, resized or stored again.
 * The limits are fixed for the life of a gateway, so the hash alone is the key. Entries live as long as cached
 * answers do (ARGUS_CACHE_TTL_SECONDS); with 0 the memo is off, since no worker would have an answer.
 */
export class UploadMemo {
  private readonly entries: LRUCache<string, UploadDescription> | undefined;

  constructor(ttlSeconds: number, maxEntries = MAX_ENTRIES) {
    this.entries = ttlSeconds > 0 ? new LRUCache({ max: maxEntries, ttl: ttlSeconds * 1000 }) : undefined;
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  /** The upload's hex sha256, or undefined when the memo is off (the processor then hashes as before). */
  hash(bytes: Uint8Array): string | undefined {
    return this.entries ? createHash('sha256').update(bytes).digest('hex') : undefined;
  }

  recall(sha256: string | undefined): UploadDescription | undefined {
    return sha256 === undefined ? undefined : this.entries?.get(sha256);
  }

  remember(image: NormalisedImage): void {
    if (!this.entries) return;
    const { sha256, mime, width, height, sourceFormat, sourceBytes, sourcePixels } = image;
    this.entries.set(sha256, { sha256, mime, width, height, sourceFormat, sourceBytes, sourcePixels });
  }
}
