/** Gold labels map onto the model's label names by name or by index; others are excluded. */
import { expect, it } from 'vitest';
import { goldLabelKey, mapGoldLabel, MISSING_LABEL } from '../../src/eval/labels.js';

const labels = ['negative', 'positive'];

it('maps names case-insensitively, and integers (or integer strings) as indexes', () => {
  expect(mapGoldLabel('positive', labels)).toBe('positive');
  expect(mapGoldLabel(' Negative ', labels)).toBe('negative');
  expect(mapGoldLabel(0, labels)).toBe('negative');
  expect(mapGoldLabel(1, labels)).toBe('positive');
  expect(mapGoldLabel('1', labels)).toBe('positive');
});

it('leaves labels the model cannot produce unmapped, and reports them as written', () => {
  for (const raw of ['neutral', 2, '2', -1, 0.5, '', null, undefined, true]) expect(mapGoldLabel(raw, labels)).toBeUndefined();
  expect(goldLabelKey(' neutral ')).toBe('neutral');
  expect(goldLabelKey('')).toBe(MISSING_LABEL);
  expect(goldLabelKey(undefined)).toBe(MISSING_LABEL);
  expect(goldLabelKey(2)).toBe('2');
});

it('prefers a label named like a number over the index', () => {
  expect(mapGoldLabel('1', ['1', '0'])).toBe('1');
  expect(mapGoldLabel('0', ['1', '0'])).toBe('0');
});
