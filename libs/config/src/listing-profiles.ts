import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './env';

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
  }),
});
export type ListingProfile = z.infer<typeof listingProfileSchema>;

const profilesFileSchema = z
  .strictObject({
    version: z.literal(1),
    default: z.string(),
    profiles: z.record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'profile names are lowercase words joined by -'),
      listingProfileSchema,
    ),
  })
  .refine((file) => file.default in file.profiles, {
    message: 'default must name one of the profiles',
    path: ['default'],
  });

export interface ListingProfiles {
  source: string;
  defaultProfile: string;
  names: string[];
  get(name: string): ListingProfile | undefined;
}

const SHIPPED = join('config', 'listing-profiles.yaml');

/** Walks up from here to the repo (or image) root, so sources under ts-jest and the compiled dist/ both find it. */
function findShipped(start: string = __dirname): string {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, SHIPPED);
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new ConfigError(`cannot find ${SHIPPED}; set ARGUS_LISTING_PROFILES to a profiles file`);
    dir = parent;
  }
}

/** Listing-compliance profiles, from ARGUS_LISTING_PROFILES or the shipped file; validated once at boot. */
export function loadListingProfiles(env: NodeJS.ProcessEnv = process.env): ListingProfiles {
  const source = env.ARGUS_LISTING_PROFILES ? resolve(env.ARGUS_LISTING_PROFILES) : findShipped();
  let raw: unknown;
  try {
    raw = parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `cannot read listing profiles ${source}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = profilesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid listing profiles in ${source}:\n${problems.join('\n')}`);
  }
  const { profiles } = parsed.data;
  return {
    source,
    defaultProfile: parsed.data.default,
    names: Object.keys(profiles),
    get: (name) => profiles[name],
  };
}
