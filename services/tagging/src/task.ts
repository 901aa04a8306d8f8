import type { TaggingOptions } from '@argus/contracts';
import {
  loadListingProfiles,
  loadProductCategories,
  namedEntriesDigest,
  resolveNamed,
  type ListingProfile,
  type ListingProfiles,
} from '@argus/config';
import type { ImageProcessor } from '@argus/imaging';
import {
  measurementCopy,
  optionsDigest,
  sideOcrLines,
  type EngineDependencies,
  type ImageContext,
  type TaskResult,
} from '@argus/inference';
import type { TaskDefinition, TaskPostprocessor } from '@argus/worker';
import { evaluateCompliance, modelCheckIds, overlayWords } from './listing-compliance';
import { TAGGING_PROMPT } from './prompt';
import { cpuTaggingEngine, ollamaTaggingEngine } from './tagging-engines';

/** Tagging's options with the listing profile they name (or the profile file's default) resolved at the start. */
export type TaggingRequestOptions = TaggingOptions & {
  listingProfile: { name: string; profile: ListingProfile };
};

type Box = { x: number; y: number; width: number; height: number };

/**
 * A read word's box with a margin, for painting the word out of the listing measurements: OCR boxes follow the
 * recogniser's idea of the glyphs (PaddleOCR's come from CTC peaks), and a bold glyph's stem or an anti-aliased edge
 * left outside the box would count as product and stretch the product's box over promotional text beside it.
 * A quarter of the text height each side and a tenth above and below cover that without reaching the product.
 */
export function textMargin(box: Box): Box {
  const dx = Math.round(box.height * 0.25);
  const dy = Math.round(box.height * 0.1);
  return {
    x: Math.max(0, box.x - dx),
    y: Math.max(0, box.y - dy),
    width: box.width + 2 * dx - Math.max(0, dx - box.x),
    height: box.height + 2 * dy - Math.max(0, dy - box.y),
  };
}

/** Words the CPU OCR reads in the image (the request's one side read, shared with the engine), with boxes. */
export type WordReader = (image: ImageContext) => Promise<Array<{ text: string; box: Box }> | undefined>;

/**
 * Listing-photo compliance against the request's profile, measured on the CPU, plus the profile's vision-model checks
 * (one product, no props, not a placeholder) from the model's look at the photo when a GPU tier answered. On the CPU
 * tier those are left out and named in needsGpuTier as `compliance.<id>`.
 */
export interface ListingCompliance extends TaskPostprocessor<TaggingRequestOptions> {
  run(
    image: ImageContext,
    options: TaggingRequestOptions,
    result: TaskResult,
    needsGpuTier?: readonly string[],
  ): Promise<{ compliance: ReturnType<typeof evaluateCompliance>; needsGpuTier?: string[] }>;
}

export function listingCompliance(
  processor: Pick<ImageProcessor, 'measureListing' | 'decodeForMeasurement'>,
  readWords: WordReader,
): ListingCompliance {
  return {
    readsImage: true,
    async run(image, options, result, needsGpuTier = []) {
      const { name, profile } = options.listingProfile;
      // Words are read first so that text over the background is measured as background, not as product.
      const words = profile.checks.text_overlay ? await readWords(image) : [];
      const readable = words ?? [];
      const bytes = await image.bytes();
      const listing = await processor.measureListing(
        bytes,
        { ignore: readable.map((word) => textMargin(word.box)) },
        measurementCopy(image, processor),
      );
      const photo = 'photo' in result ? result.photo : null;
      const compliance = evaluateCompliance(
        name,
        profile,
        listing,
        words ? overlayWords(words, listing.productBox) : 'unreadable',
        photo,
        // The tagging engine already ran the face detector on this image; its answer is reused, not recomputed.
        'people' in result ? result.people : undefined,
      );
      const unjudged = photo ? [] : modelCheckIds(profile).map((id) => `compliance.${id}`);
      if (unjudged.length === 0) return { compliance };
      return { compliance, needsGpuTier: [...new Set([...needsGpuTier, ...unjudged])] };
    },
  };
}

/** The side read's words, with boxes in the image's pixels; undefined when the image was too busy to read in time. */
export function sideWords(runtimes: EngineDependencies): WordReader {
  return async (image) => (await sideOcrLines(image, runtimes))?.flatMap((line) => line.words);
}

/**
 * Product tagging: category, attributes, condition, defects and listing-photo compliance. The engines answer the
 * product questions; compliance is measured after routing, whichever tier answered.
 */
export function taggingTask(
  profiles: () => ListingProfiles = loadListingProfiles,
  categories: () => { paths: readonly string[] } = loadProductCategories,
): TaskDefinition<TaggingRequestOptions> {
  return {
    id: 'tagging',
    promptVersion: TAGGING_PROMPT.version,
    // Faces for `people` and the no_person check; PaddleOCR for brand and size text and text over the background.
    cpuRuntimes: ['faces', 'paddle'],
    cpuEngineDescription: 'sharp measurements, PaddleOCR (onnxruntime) and BlazeFace (tfjs wasm)',
    boot({ processor, runtimes }) {
      const loaded = profiles();
      const taxonomy = categories().paths;
      const resolveProfile = (requested: string | undefined) => {
        const { name, entry } = resolveNamed(loaded, requested, 'listing profile');
        return { name, profile: entry };
      };
      return {
        engine: (spec) =>
          spec.kind === 'cpu'
            ? cpuTaggingEngine(spec, runtimes)
            : ollamaTaggingEngine(spec, runtimes, taxonomy),
        resolve: (options) => ({
          ...options.tagging,
          listingProfile: resolveProfile(options.tagging?.profile),
        }),
        // The profile only changes compliance, which is measured after routing and never cached.
        fingerprint: ({ categories, attributeSchemas, listing }) =>
          optionsDigest({ categories, attributeSchemas, listing }),
        configDigest: optionsDigest({ profiles: namedEntriesDigest(loaded), taxonomy }),
        warmUpOptions: () => ({ listingProfile: resolveProfile(undefined) }),
        postprocess: listingCompliance(processor, sideWords(runtimes)),
      };
    },
  };
}
