import { loadModerationPolicies } from '@argus/config';
import type { ModerationHit } from '@argus/contracts';
import { applyPolicy, moderationPrompt, nsfwHits, unjudgedCategories } from './index';

const policies = loadModerationPolicies({});
const policy = (name: string) => policies.get(name)!;
const hit = (id: string, confidence: number): ModerationHit => ({
  id,
  confidence,
  evidence: { rationale: 'test' },
});

describe('applyPolicy', () => {
  it.each([
    // default: `*` blocks at 0.85 and reviews at 0.5
    ['default', 'violence.graphic', 0.85, 'block'],
    ['default', 'violence.graphic', 0.849, 'review'],
    ['default', 'violence.graphic', 0.5, 'review'],
    ['default', 'violence.graphic', 0.499, 'allow'],
    // family threshold: alcohol only ever reviews, from 0.8
    ['default', 'alcohol.beverages', 0.99, 'review'],
    ['default', 'alcohol.beverages', 0.79, 'allow'],
    // id threshold beats the family and `*`
    ['default', 'sexual.suggestive', 0.94, 'review'],
    ['default', 'sexual.suggestive', 0.95, 'block'],
    ['default', 'sexual.swimwear', 0.99, 'review'],
    ['default', 'text.contact_info', 0.6, 'block'],
    ['default', 'text.contact_info', 0.4, 'review'],
    // strict lowers everything
    ['strict', 'violence.graphic', 0.6, 'block'],
    ['strict', 'violence.graphic', 0.3, 'review'],
    ['strict', 'alcohol.beverages', 0.8, 'block'],
    // wine-shop allows alcohol, whatever the confidence
    ['wine-shop', 'alcohol.beverages', 0.99, 'allow'],
    ['wine-shop', 'violence.graphic', 0.9, 'block'],
    // custom rules use `*`
    ['strict', 'custom.1', 0.61, 'block'],
  ])('%s: %s at %d → %s', (name, id, confidence, decision) => {
    expect(applyPolicy(policy(name), [hit(id, confidence)]).decision).toBe(decision);
  });

  it('names the categories behind the decision, the strongest level winning', () => {
    const result = applyPolicy(policy('default'), [
      hit('alcohol.beverages', 0.9),
      hit('weapons.knives', 0.9),
      hit('gambling.games', 0.2),
    ]);
    expect(result).toEqual({ decision: 'block', triggeredBy: ['weapons.knives'] });
    expect(applyPolicy(policy('default'), []).decision).toBe('allow');
  });
});

describe('policy-aware routing inputs', () => {
  it('lists what the CPU cannot judge under each policy, custom rules included', () => {
    const cpu = ['sexual.explicit', 'sexual.suggestive', 'text.contact_info'];
    expect(unjudgedCategories(policy('default'), cpu)).toContain('violence.graphic');
    expect(unjudgedCategories(policy('wine-shop'), cpu)).not.toContain('alcohol.beverages');
    expect(unjudgedCategories(policy('wine-shop'), cpu)).toContain('custom.1');
    expect(unjudgedCategories(policy('default'), cpu)).not.toContain('sexual.explicit');
  });

  it('puts the taxonomy and the house rules in the prompt', () => {
    const prompt = moderationPrompt('Classify.', policy('strict'));
    expect(prompt).toContain('- text.contact_info:');
    expect(prompt).toContain('1. no live animals');
  });

  it('maps nsfwjs classes onto the taxonomy and leaves out noise', () => {
    const hits = nsfwHits({ porn: 0.2, hentai: 0.3, sexy: 0.01, neutral: 0.49, drawing: 0 });
    expect(hits).toEqual([
      { id: 'sexual.explicit', confidence: 0.3, evidence: { rationale: 'nsfwjs: Porn 20%, Hentai 30%' } },
    ]);
  });
});
