/**
 * Deterministic synthetic documents with a realistic length mix (a few words to a few
 * hundred), built from the project's own sample reviews.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

export function sampleSentences(): string[] {
  return readFileSync(path.join(repoRoot, 'models/sample-tokenizer/sample-reviews.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** n documents `{id, text}`; lengths from 1 to ~6 sentences, seeded. */
export function syntheticDocs(n: number, seed = 7, prefix = 'doc'): { id: string; text: string }[] {
  const s = sampleSentences();
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => {
    const k = 1 + Math.floor(rnd() ** 2 * 6);
    const parts = Array.from({ length: k }, () => s[Math.floor(rnd() * s.length)]);
    return { id: `${prefix}-${i}`, text: parts.join(' ') };
  });
}

export function toJsonl(docs: object[]): string {
  return docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
}
