import { ArgusError, type TaskRequest } from '@argus/contracts';
import type { ListingProfiles } from '@argus/config';
import type { ImageProcessor } from '@argus/imaging';
import { evaluateCompliance } from '@argus/inference';

/** Deterministic work added to a task's answer after routing, whichever tier answered; never cached. */
export interface TaskPostprocessor {
  run(image: Uint8Array, request: TaskRequest): Promise<Record<string, unknown>>;
}

/** Product tagging: listing-photo compliance against the request's profile, measured on the CPU. */
export class ListingCompliancePostprocessor implements TaskPostprocessor {
  constructor(
    private readonly processor: Pick<ImageProcessor, 'measure' | 'measureListing'>,
    private readonly profiles: ListingProfiles,
  ) {}

  async run(
    image: Uint8Array,
    request: TaskRequest,
  ): Promise<{ compliance: ReturnType<typeof evaluateCompliance> }> {
    const name = request.profile ?? this.profiles.defaultProfile;
    const profile = this.profiles.get(name);
    if (!profile) {
      throw new ArgusError(
        'INVALID_REQUEST',
        `unknown listing profile "${name}"; known: ${this.profiles.names.join(', ')}`,
      );
    }
    const [measured, listing] = await Promise.all([
      this.processor.measure(image),
      this.processor.measureListing(image),
    ]);
    return { compliance: evaluateCompliance(name, profile, measured, listing) };
  }
}
