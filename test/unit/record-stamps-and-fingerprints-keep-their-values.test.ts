/**
 * The worker's per-document stamps were made cheaper (one-shot sha256, one ISO string per
 * millisecond, softmax without arrays); their values must not move: markers written by an
 * earlier version are compared by --skip-unchanged, and records are read by other programs.
 */
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { textFingerprint } from '../../src/shared/fingerprints.js';
import { isoTimestamp } from '../../src/shared/util.js';
import { sentimentFromLogits, softmax } from '../../src/worker/postprocess.js';

it('a text fingerprint is the first 16 hex digits of its sha256, as markers of earlier versions hold', () => {
  expect(textFingerprint('abc')).toBe('ba7816bf8f01cfea');
  for (const t of ['', 'ünïcödé ✓', 'x'.repeat(100_000)]) {
    expect(textFingerprint(t)).toBe(createHash('sha256').update(t).digest('hex').slice(0, 16));
  }
});

it('an ISO timestamp equals Date#toISOString for the same millisecond and moves with it', () => {
  const t = Date.UTC(2026, 11, 2, 19, 0, 0, 123);
  expect(isoTimestamp(t)).toBe('2026-12-02T19:00:00.123Z');
  expect(isoTimestamp(t)).toBe('2026-12-02T19:00:00.123Z');
  expect(isoTimestamp(t + 1)).toBe('2026-12-02T19:00:00.124Z');
  expect(isoTimestamp(t)).toBe(new Date(t).toISOString());
  expect(isoTimestamp()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

it('sentiment is the softmax argmax and its probability, for two and more labels', () => {
  const cases = [[0.1, -0.2], [-3, 4], [2, 2], [1, 5, 3], [1000, 1001], [-1e4, 0, 1e4]];
  for (const c of cases) {
    const logits = Float32Array.from(c);
    const p = softmax(logits);
    const best = p.indexOf(Math.max(...p));
    const labels = c.map((_, i) => `l${i}`);
    const s = sentimentFromLogits(logits, labels);
    expect(s.label).toBe(labels[best]);
    expect(s.score).toBeCloseTo(p[best], 12);
    expect(s.logits).toEqual(Array.from(logits));
  }
});
