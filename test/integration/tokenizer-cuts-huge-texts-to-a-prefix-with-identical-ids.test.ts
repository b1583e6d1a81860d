/**
 * A text far over the model window is tokenized only up to a prefix (RobertaTokenizer.encodeBatch,
 * the argument at cutAt in src/model/tokenizer.ts): the ids must be exactly those of tokenizing
 * the whole text and truncating, on real text (rt-polarity reviews with the real roberta-base
 * vocabulary where ../shared has them, the committed sample reviews with the trained vocabulary)
 * and on texts built to break a careless cut. The reference is a plain `tokenizers` Tokenizer
 * loaded from the same pipeline and run on the whole text.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from 'tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import type { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { RobertaTokenizer as Tok } from '../../src/model/tokenizer.js';
import { FIXTURE_TOKENIZER_DIR, hasRealRoberta, HOSTILE_TEXTS, REAL_ROBERTA_DIR, repoRoot, sampleReviews } from '../helpers/tokenizer-fixtures.js';

/** exactCountChars 0: cut at the bound itself, so that short texts exercise the cut too. */
const VOCABULARIES = [
  { name: 'trained test vocabulary', available: true, load: (maxLength: number) => Tok.fromDir(FIXTURE_TOKENIZER_DIR, { maxLength, exactCountChars: 0 }) },
  { name: 'roberta-base vocabulary', available: hasRealRoberta, load: (maxLength: number) => Tok.fromDir(REAL_ROBERTA_DIR, { maxLength, exactCountChars: 0 }) },
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-tokcut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RT = path.resolve(repoRoot, '../shared/corpora/rt-polarity/rt-polarity.pos');

async function realLines(): Promise<string[]> {
  // rt-polarity is latin-1; mixing in the sample reviews keeps the test meaningful without it.
  const rt = existsSync(RT) ? readFileSync(RT).toString('latin1').split('\n').filter(Boolean) : [];
  return [...rt.slice(0, 3000), ...(await sampleReviews())];
}

async function reference(tok: RobertaTokenizer, name: string): Promise<(text: string) => Promise<number[]>> {
  const file = path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
  tok.saveTokenizerJson(file);
  const raw = Tokenizer.fromFile(file);
  raw.disableTruncation();
  raw.disablePadding();
  return async (text) => (await raw.encode(text)).getIds();
}

function truncateRef(all: number[], maxLength: number, eos: number): number[] {
  return all.length <= maxLength ? all : [...all.slice(0, maxLength - 1), eos];
}

/** Texts where a cut at the wrong place would change the first tokens. */
function adversarial(lines: string[]): Record<string, string> {
  const para = lines.slice(0, 400).join(' ');
  return {
    'reviews joined by spaces': para,
    'reviews one a line': lines.slice(0, 400).join('\n'),
    'a letter run far longer than the prefix, then text': 'a'.repeat(70_000) + ' ' + para,
    'letters then a long space run then a word': 'word'.repeat(600) + ' '.repeat(5_000) + 'next ' + para,
    '<mask> after 20,000 spaces': 'x'.repeat(10) + ' '.repeat(20_000) + '<mask> ' + para,
    'no-break spaces before spaces': `${para.replace(/ /g, '\u00a0 ')}`,
    'ideographic space and NEL': para.replace(/ /g, '\u3000').replace(/\./g, '.\u0085 '),
    'CJK without spaces, lines': Array.from({ length: 300 }, () => '这部电影非常好看。映画は最高でした！').join('\n'),
    'digits and punctuation runs': Array.from({ length: 3000 }, (_, i) => `${i * 7919}!!! ...${'-'.repeat(i % 7)}`).join(' '),
    'emoji and contractions': Array.from({ length: 2000 }, () => "it's 😀👍🏽 we'll don't").join(' '),
    'CRLF and tabs': lines.slice(0, 300).join('\r\n\t'),
    ...HOSTILE_TEXTS,
  };
}

for (const vocab of VOCABULARIES) {
  describe.skipIf(!vocab.available)(`prefix cut (${vocab.name})`, () => {
    it('gives the ids of tokenizing whole then truncating, at maxLength 16, 64 and 512', async () => {
      const lines = await realLines();
      const texts = adversarial(lines);
      const names = Object.keys(texts);
      // The reference runs without truncation, so its ids of a text are the same whatever
      // maxLength the pipeline was saved with: computed once, not once per maxLength (the
      // whole-text encodes of these ~0.1-1 MB texts are most of this test's time).
      let whole: number[][] | undefined;
      for (const maxLength of [16, 64, 512]) {
        const tok = await vocab.load(maxLength);
        if (!whole) {
          const ref = await reference(tok, `${vocab.name}-${maxLength}`);
          whole = [];
          for (const name of names) whole.push(await ref(texts[name]));
        }
        const encs = await tok.encodeBatch(names.map((n) => texts[n]));
        let cut = 0;
        for (const [i, name] of names.entries()) {
          const text = texts[name];
          const all = whole[i];
          const enc = encs[i];
          expect(Array.from(enc.ids), `${name} at ${maxLength}`).toEqual(truncateRef(all, maxLength, tok.eosId));
          expect(enc.truncated, name).toBe(all.length > maxLength);
          if (enc.tokenizedChars < text.length) {
            cut++;
            expect(enc.tokenCount, name).toBeGreaterThan(maxLength);
            expect(enc.tokenCount, name).toBeLessThanOrEqual(all.length);
          } else {
            expect(enc.tokenCount, name).toBe(all.length);
          }
        }
        // The cut is taken on most of the long texts (not silently skipped).
        if (maxLength === 16) expect(cut).toBeGreaterThanOrEqual(8);
      }
    }, 120_000);

    it('cuts every review file line joined as one document at every window size the same way', async () => {
      // Many documents, each ending at a different place relative to the prefix bound.
      const lines = await realLines();
      const tok = await vocab.load(24);
      const ref = await reference(tok, `${vocab.name}-24b`);
      const docs = Array.from({ length: 120 }, (_, k) => lines.slice(k * 7, k * 7 + 40 + (k % 13) * 9).join(k % 2 ? ' ' : '\n'));
      const encs = await tok.encodeBatch(docs);
      for (const [k, d] of docs.entries()) expect(Array.from(encs[k].ids), `doc ${k}`).toEqual(truncateRef(await ref(d), 24, tok.eosId));
    }, 120_000);

    it('streams a long text in segments whose ids concatenate to the whole text ids', async () => {
      const lines = await realLines();
      const tok = await vocab.load(512);
      const ref = await reference(tok, `${vocab.name}-seg`);
      // 400,000 characters whatever the corpus: about six 64 Ki-character segments. Without
      // ../shared the sample reviews alone are ~10 KB, so a fixed number of copies is not enough.
      const para = lines.join(' ');
      const text = Array.from({ length: Math.ceil(400_000 / (para.length + 1)) }, () => para).join('\n').slice(0, 400_000);
      const segments: Int32Array[] = [];
      for await (const s of tok.encodeSegments(text)) segments.push(s);
      expect(segments.length).toBeGreaterThan(3);
      const all = await ref(text);
      const joined = segments.flatMap((s) => Array.from(s));
      expect(joined).toEqual(all.slice(1, -1));
    }, 120_000);

    it('a 20 MB document costs a small multiple of a 10 KB one, tokenizing a bounded prefix', async () => {
      const lines = await realLines();
      const tok = await vocab.load(512);
      const base = lines.join(' ');
      const small = base.slice(0, 10_000);
      const huge = base.repeat(Math.ceil(20e6 / base.length)).slice(0, 20e6);
      const time = async (t: string) => {
        const ms: number[] = [];
        for (let r = 0; r < 5; r++) {
          const t0 = performance.now();
          await tok.encode(t);
          ms.push(performance.now() - t0);
        }
        return ms.sort((a, b) => a - b)[2];
      };
      await time(small); // warm the BPE cache and the thread pool
      const smallMs = await time(small);
      const hugeMs = await time(huge);
      const enc = await tok.encode(huge);
      expect(enc.truncated).toBe(true);
      expect(enc.ids.length).toBe(512);
      // Bounded work: the prefix bound (511 x longest token) plus one word, not 20 MB.
      expect(enc.tokenizedChars).toBeLessThan(511 * 128 + 1_000);
      expect(enc.tokenizedChars).toBeLessThan(huge.length / 100);
      // Tokenized whole it was ~2000 times the small document; the prefix is ~6.5 times its size.
      expect(hugeMs, `20 MB: ${hugeMs.toFixed(1)} ms, 10 KB: ${smallMs.toFixed(1)} ms`).toBeLessThan(Math.max(30 * smallMs, 5));
    }, 120_000);
  });
}
