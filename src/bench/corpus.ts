/**
 * The documents every section of the benchmark runs: the rt-polarity movie reviews
 * (../shared/corpora/rt-polarity, 10,662 snippets, latin-1) tokenized with the real roberta-base
 * vocabulary (../shared/roberta-base): mean 27 tokens, p99 56. Where those files are absent, a
 * generated corpus with a similar length mix from the project's sample reviews and its sample
 * tokenizer (models/sample-tokenizer).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RobertaTokenizer } from '../model/tokenizer.js';

export interface BenchDoc {
  id: string;
  text: string;
}

export interface BenchCorpus {
  source: 'rt-polarity' | 'synthetic';
  description: string;
  docs: BenchDoc[];
  tokenizerDir: string;
}

export interface EncodedCorpus {
  /** Token ids per document (<s> … </s>, truncated to the model's 512). */
  ids: Int32Array[];
  lengths: number[];
  usefulTokens: number;
}

export function sharedDir(repoRoot: string): string {
  return process.env.ROBERTA_BATCH_SHARED ?? path.resolve(repoRoot, '..', 'shared');
}

/** Deterministic xorshift32, so two runs measure the same documents. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * `n` documents (cycled if the corpus is smaller), interleaving positive and negative reviews
 * as a shuffled file would: file order, not length order, is what a queue receives.
 */
export function loadCorpus(repoRoot: string, n: number): BenchCorpus {
  const shared = sharedDir(repoRoot);
  const pos = path.join(shared, 'corpora/rt-polarity/rt-polarity.pos');
  const neg = path.join(shared, 'corpora/rt-polarity/rt-polarity.neg');
  const vocab = path.join(shared, 'roberta-base');
  if (existsSync(pos) && existsSync(neg) && existsSync(path.join(vocab, 'vocab.json')) && existsSync(path.join(vocab, 'merges.txt'))) {
    const lines = (f: string) => readFileSync(f, 'latin1').split('\n').map((l) => l.trim()).filter(Boolean);
    const all = [...lines(pos), ...lines(neg)];
    const rnd = rng(11);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    const docs = Array.from({ length: n }, (_, i) => ({ id: `rt-${i}`, text: all[i % all.length] }));
    return { source: 'rt-polarity', description: `rt-polarity (${all.length} reviews, latin-1), roberta-base vocabulary`, docs, tokenizerDir: vocab };
  }
  const sample = path.join(repoRoot, 'models/sample-tokenizer');
  const sentences = readFileSync(path.join(sample, 'sample-reviews.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const rnd = rng(7);
  // 1-6 sentences, skewed short (squared uniform): most documents are one or two sentences.
  const docs = Array.from({ length: n }, (_, i) => {
    const k = 1 + Math.floor(rnd() ** 2 * 6);
    return { id: `syn-${i}`, text: Array.from({ length: k }, () => sentences[Math.floor(rnd() * sentences.length)]).join(' ') };
  });
  return { source: 'synthetic', description: `generated from models/sample-tokenizer/sample-reviews.txt (${shared} not found), sample tokenizer`, docs, tokenizerDir: sample };
}

export async function encodeCorpus(docs: readonly BenchDoc[], tokenizerDir: string, maxLength = 512): Promise<EncodedCorpus> {
  const tok = await RobertaTokenizer.fromDir(tokenizerDir, { maxLength });
  const ids: Int32Array[] = [];
  for (let i = 0; i < docs.length; i += 1024) {
    for (const e of await tok.encodeBatch(docs.slice(i, i + 1024).map((d) => d.text))) ids.push(e.ids);
  }
  const lengths = ids.map((x) => x.length);
  return { ids, lengths, usefulTokens: lengths.reduce((a, b) => a + b, 0) };
}

/** Documents of at least `tokens` tokens (truncated to 512 by the worker): the largest batch. */
export function longDocuments(base: readonly BenchDoc[], n: number, prefix = 'long'): BenchDoc[] {
  const text = base.slice(0, 200).map((d) => d.text).join(' ');
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, text: `${i} ${text}` }));
}
