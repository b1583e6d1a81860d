import { expect, it } from 'vitest';
import { PRESETS } from '../../src/model/config.js';
import { generateTensor, generateWeights, weightSpecs } from '../../src/model/weights.js';

const config = { ...PRESETS.tiny, numLayers: 1 };

it('gives the same bytes for the same seed, config and head, and different bytes for another seed', () => {
  const a = generateWeights(config, 'sequence-classification', 42);
  const b = generateWeights(config, 'sequence-classification', 42);
  const c = generateWeights(config, 'sequence-classification', 43);
  expect([...a.keys()]).toEqual(weightSpecs(config, 'sequence-classification').map((s) => s.name));
  for (const [name, values] of a) {
    expect(Buffer.from(values.buffer).equals(Buffer.from(b.get(name)!.buffer)), name).toBe(true);
    expect(Buffer.from(values.buffer).equals(Buffer.from(c.get(name)!.buffer)), name).toBe(false);
  }
});

it('draws each tensor from its own stream, so one tensor can be produced without the others', () => {
  const specs = weightSpecs(config, 'base');
  const all = generateWeights(config, 'base', 7);
  const last = specs[specs.length - 1];
  expect(Array.from(generateTensor(last, 7))).toEqual(Array.from(all.get(last.name)!));
});

it('scales linear layers by 1/sqrt(fan_in) and centres LayerNorm scales on 1', () => {
  const spec = weightSpecs(PRESETS.base, 'base').find((s) => s.init === 'linear' && s.dims[0] === 3072)!;
  const w = generateTensor(spec, 1);
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  expect(std).toBeCloseTo(1 / Math.sqrt(3072), 3);
  const gamma = generateTensor({ name: 'g', dims: [4096], init: 'ln-gamma' }, 1);
  expect(gamma.reduce((s, v) => s + v, 0) / gamma.length).toBeCloseTo(1, 1);
});
