import { Controller, Get, Inject, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { WHOAMI_PATH, type Whoami } from '@argus/contracts';
import type { GatewayConfig, ListingProfiles, ModerationPolicies } from '@argus/config';
import { GATEWAY_CONFIG, LISTING_PROFILES, MODERATION_POLICIES } from './gateway.tokens';
import { describeCaller } from './whoami';

/** GET /v1/whoami: any valid key may ask, whatever its scopes (access-control.ts). */
@Controller()
export class WhoamiController {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(MODERATION_POLICIES) private readonly policies: ModerationPolicies,
    @Inject(LISTING_PROFILES) private readonly profiles: ListingProfiles,
  ) {}

  @Get(WHOAMI_PATH)
  whoami(@Req() request: FastifyRequest): Whoami {
    return describeCaller(request.argusCaller, this.config.auth.enabled, this.policies, this.profiles);
  }
}
