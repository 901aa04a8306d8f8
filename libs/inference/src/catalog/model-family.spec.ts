import { describeInput, familyOfModel, imageTokenCeiling } from './model-family';

describe('familyOfModel', () => {
  it.each([
    ['qwen2.5vl:3b', 'qwen2.5vl'],
    ['qwen2.5vl:72b-q8_0', 'qwen2.5vl'],
    ['QWEN2.5VL:7B', 'qwen2.5vl'],
    ['registry.example.com/library/qwen2.5vl:7b', 'qwen2.5vl'],
    ['qwen3-vl:8b', 'qwen3-vl'],
    ['qwen3-vl:30b-a3b-instruct', 'qwen3-vl'],
    ['gemma3:12b', 'gemma3'],
    ['gemma3', 'gemma3'],
    ['llama3.2-vision:11b', 'mllama'],
    ['llama3.2-vision:90b-instruct-q4_K_M', 'mllama'],
  ])('%s is %s', (model, family) => {
    expect(familyOfModel(model)).toBe(family);
  });

  it.each(['gemma3n:e4b', 'qwen2.5:7b', 'qwen2.5vlx:1b', 'granite3.2-vision:2b', 'llama3.2:3b', 'llava:7b'])(
    '%s has no family rule',
    (model) => {
      expect(familyOfModel(model)).toBeUndefined();
    },
  );
});

describe('describeInput and imageTokenCeiling', () => {
  it('write a rule as the catalog spells it and bound its tokens', () => {
    expect(describeInput({ family: 'qwen2.5vl', maxPixels: 1_003_520 })).toBe(
      '{ family: qwen2.5vl, maxPixels: 1003520 }',
    );
    expect(describeInput({ longSide: 1024 })).toBe('{ longSide: 1024 }');
    expect(imageTokenCeiling({ family: 'qwen2.5vl', maxPixels: 1_003_520 })).toBe(1280);
    expect(imageTokenCeiling({ family: 'qwen2.5vl' })).toBe(2674);
    expect(imageTokenCeiling({ family: 'gemma3' })).toBe(256);
    expect(imageTokenCeiling({ square: 224 })).toBeUndefined();
  });
});
