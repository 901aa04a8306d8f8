import { z } from 'zod';

/** What an API key may do; each gateway route needs one (mirrors `API_SCOPES` of @argus/config, checked by a spec). */
export const CALLER_SCOPES = ['analyze', 'jobs', 'reviews', 'ops'] as const;

/** GET /v1/whoami: answers any valid key, whatever its scopes, so a client (the console) can tell what it may do. */
export const WHOAMI_PATH = '/v1/whoami';

export const whoamiSchema = z.object({
  authEnabled: z
    .boolean()
    .describe(
      'false when the gateway has no API keys configured: every route is open to anyone who reaches it',
    ),
  keyId: z.string().nullable().describe('the id of the key that called; null when keys are off'),
  tenant: z
    .string()
    .nullable()
    .describe("the key's tenant: it sees only its own jobs and reviews; null when keys are off"),
  scopes: z
    .array(z.enum(CALLER_SCOPES))
    .describe('the route groups the key may call; all of them when keys are off'),
  policy: z
    .string()
    .describe("the moderation policy of requests that name none: the key's own, else the gateway's default"),
  policies: z.array(z.string()).describe('the moderation policies a request may name'),
  profiles: z.array(z.string()).describe('the listing-compliance profiles a request may name'),
  defaultProfile: z.string().describe('the profile used when a request names none'),
});
export type Whoami = z.infer<typeof whoamiSchema>;
