import { CALLER_SCOPES, type Whoami } from '@argus/contracts';
import type { ListingProfiles, ModerationPolicies } from '@argus/config';
import type { Caller } from './access-control';

/**
 * Who the caller is as the gateway sees them, and the names a request may use: what the console shows after sign-in
 * and uses to hide the pages a key may not open. With keys off everyone may do everything, and the answer says so.
 */
export function describeCaller(
  caller: Caller | undefined,
  authEnabled: boolean,
  policies: Pick<ModerationPolicies, 'names' | 'defaultName'>,
  profiles: Pick<ListingProfiles, 'names' | 'defaultName'>,
): Whoami {
  return {
    authEnabled,
    keyId: caller?.keyId ?? null,
    tenant: caller?.tenant ?? null,
    scopes: caller ? [...caller.scopes] : [...CALLER_SCOPES],
    policy: caller?.policy ?? policies.defaultName,
    policies: [...policies.names],
    profiles: [...profiles.names],
    defaultProfile: profiles.defaultName,
  };
}
