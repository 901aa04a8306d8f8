import { loadModerationPolicies } from '@argus/config';
import type { ModerationHit } from '@argus/contracts';
import { nsfwHits } from './moderation-engines';
import { applyPolicy, moderationPrompt, splitFound, unjudgedCategories } from './moderation-policy';

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

  it('maps nsfwjs classes onto the taxonomy: weak readings apart, noise left out', () => {
    const reading = nsfwHits({ porn: 0.2, hentai: 0.3, sexy: 0.01, neutral: 0.49, drawing: 0 });
    expect(reading.found).toEqual([]);
    expect(reading.weak).toEqual([
      {
        id: 'sexual.explicit',
        confidence: 0.5,
        evidence: {
          rationale:
            'nsfwjs: Porn 20%, Hentai 30%, under the 90% the CPU tier needs to report sexual.explicit',
        },
      },
    ]);
  });
});

describe('splitFound', () => {
  it('finds a category from its review threshold, and keeps what is under it as a signal', () => {
    const { found, signals } = splitFound(policy('default'), [
      hit('sexual.explicit', 0.5),
      hit('sexual.explicit', 0.499),
      hit('sexual.suggestive', 0.69),
      hit('text.contact_info', 0.4),
    ]);
    expect(found).toEqual([hit('sexual.explicit', 0.5), hit('text.contact_info', 0.4)]);
    expect(signals).toEqual([hit('sexual.explicit', 0.499), hit('sexual.suggestive', 0.69)]);
  });

  it('uses the block threshold where the policy sets no review threshold, and keeps allowed categories found', () => {
    const blockOnly = { ...policy('default'), thresholds: { '*': { block: 0.8 } } };
    expect(splitFound(blockOnly, [hit('weapons.knives', 0.79)]).found).toEqual([]);
    expect(splitFound(blockOnly, [hit('weapons.knives', 0.8)]).found).toHaveLength(1);
    expect(splitFound(policy('wine-shop'), [hit('alcohol.beverages', 0.9)]).found).toHaveLength(1);
  });

  it('never finds a category the policy sets no threshold for', () => {
    const none = { ...policy('default'), thresholds: {} };
    expect(splitFound(none, [hit('weapons.knives', 0.99)])).toEqual({
      found: [],
      signals: [hit('weapons.knives', 0.99)],
    });
  });
});
