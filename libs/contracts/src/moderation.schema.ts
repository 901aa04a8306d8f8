import { z } from 'zod';

/**
 * The moderation taxonomy: stable two-level ids, `<family>.<category>`. Policies set thresholds per id or per
 * family; docs/moderation.md describes each category. Custom rules written in a policy come back as `custom.<n>`.
 */
export const MODERATION_CATEGORIES = {
  'sexual.explicit': 'nudity or sexual activity',
  'sexual.suggestive': 'sexualised poses, focus or clothing, without nudity',
  'sexual.swimwear': 'people in swimwear, in a non-sexual context',
  'sexual.underwear': 'people in underwear or lingerie, as in a product photo',
  'violence.graphic': 'blood, injury, gore or dead bodies',
  'violence.fighting': 'people fighting or threatening violence',
  'weapons.firearms': 'guns, rifles, ammunition',
  'weapons.knives': 'knives, swords and other blades shown as weapons',
  'drugs.illegal': 'illegal drugs or drug use',
  'drugs.paraphernalia': 'pipes, bongs, syringes and similar',
  'drugs.tobacco': 'cigarettes, cigars, vapes or smoking',
  'alcohol.beverages': 'alcoholic drinks or drinking',
  'gambling.games': 'casino games, betting or lottery',
  'hate.symbols': 'hate symbols, extremist flags or gestures',
  'self_harm.depiction': 'self-harm or suicide',
  'gestures.rude': 'obscene or insulting gestures',
  'minors.unsafe_context': 'a person who may be a minor in a sexual, violent or otherwise unsafe context',
  'text.contact_info': 'text in the image with a phone number, e-mail address or URL',
  'marketplace.watermark': "another platform's watermark or logo over the image",
} as const;

export type ModerationCategoryId = keyof typeof MODERATION_CATEGORIES;
export const MODERATION_CATEGORY_IDS = Object.keys(MODERATION_CATEGORIES) as [
  ModerationCategoryId,
  ...ModerationCategoryId[],
];
export const MODERATION_FAMILIES = [...new Set(MODERATION_CATEGORY_IDS.map((id) => id.split('.')[0] ?? id))];

/** A taxonomy id, or `custom.<n>` for the n-th custom rule of the policy (1-based). */
export const moderationCategoryIdSchema = z.union([
  z.enum(MODERATION_CATEGORY_IDS),
  z.string().regex(/^custom\.\d+$/),
]);

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const moderationHitSchema = z.object({
  id: moderationCategoryIdSchema.describe('category id from the taxonomy, or custom.<n> for custom rule n'),
  confidence: z.number().min(0).max(1),
  evidence: z.object({
    rationale: z.string().describe('one short sentence: what in the image shows this'),
    quote: z.string().optional().describe('the exact text, when the evidence is text in the image'),
    box: box.optional().describe('where in the image, in pixels, when you can tell'),
  }),
});
export type ModerationHit = z.infer<typeof moderationHitSchema>;
