import { CALLER_SCOPES, whoamiSchema } from '@argus/contracts';
import { API_SCOPES } from '@argus/config';
import { describeCaller } from './whoami';

const policies = { names: ['default', 'strict'], defaultName: 'default' };
const profiles = { names: ['marketplace', 'fashion'], defaultName: 'marketplace' };

describe('describeCaller', () => {
  it('names the key, its tenant, scopes and policy, and the names a request may use', () => {
    const answer = describeCaller(
      { keyId: 'reviewer', tenant: 'shop-a', policy: 'strict', scopes: ['reviews'] },
      true,
      policies,
      profiles,
    );
    expect(whoamiSchema.parse(answer)).toEqual({
      authEnabled: true,
      keyId: 'reviewer',
      tenant: 'shop-a',
      scopes: ['reviews'],
      policy: 'strict',
      policies: ['default', 'strict'],
      profiles: ['marketplace', 'fashion'],
      defaultProfile: 'marketplace',
    });
  });

  it("falls back to the gateway's default policy when the key has none", () => {
    const answer = describeCaller({ keyId: 'k', tenant: 't', scopes: ['analyze'] }, true, policies, profiles);
    expect(answer.policy).toBe('default');
  });

  it('says when keys are off: no key, no tenant, every scope', () => {
    const answer = describeCaller(undefined, false, policies, profiles);
    expect(answer).toMatchObject({
      authEnabled: false,
      keyId: null,
      tenant: null,
      scopes: [...CALLER_SCOPES],
    });
  });

  it('knows the same scopes as the key configuration', () => {
    expect([...CALLER_SCOPES]).toEqual([...API_SCOPES]);
  });
});
