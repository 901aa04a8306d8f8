import { z } from 'zod';
import { loadNamedEntries, type NamedEntries } from './yaml-config';

const minCheck = z.strictObject({ min: z.number().nonnegative() });

export const listingProfileSchema = z.strictObject({
  description: z.string(),
  checks: z.strictObject({
    background_white: minCheck.optional(),
    fill_ratio: minCheck.optional(),
    min_resolution: minCheck.optional(),
    sharpness: minCheck.optional(),
    exposure: z.strictObject({ allowed: z.array(z.enum(['under', 'ok', 'over'])).min(1) }).optional(),
    border: z.strictObject({ allowed: z.boolean() }).optional(),
    text_overlay: z.strictObject({ maxWords: z.number().int().nonnegative() }).optional(),
    // Faces the embedded detector finds (BlazeFace + face mesh, on the CPU whichever tier answered).
    no_person: z.strictObject({ maxFaces: z.number().int().nonnegative() }).optional(),
    // Vision-model checks: judged from the model's look at the photo, so only on a GPU tier; on the CPU tier they
    // are left out of the answer and named in needsGpuTier.
    single_product: z.strictObject({ maxProducts: z.number().int().positive() }).optional(),
    no_props: z.strictObject({}).optional(),
    not_placeholder: z.strictObject({}).optional(),
  }),
});
export type ListingProfile = z.infer<typeof listingProfileSchema>;

export type ListingProfiles = NamedEntries<ListingProfile>;

/** Listing-compliance profiles, from ARGUS_LISTING_PROFILES or the shipped file; validated once at boot. */
export function loadListingProfiles(env: NodeJS.ProcessEnv = process.env): ListingProfiles {
  return loadNamedEntries({
    entry: listingProfileSchema,
    collection: 'profiles',
    envVariable: 'ARGUS_LISTING_PROFILES',
    shipped: 'config/listing-profiles.yaml',
    what: 'listing profiles',
    env,
  });
}
