import { describe, expect, it } from 'vitest';
import { HOSTILE_TEXTS, VOCABULARIES, sampleReviews } from '../helpers/tokenizer-fixtures.js';
import type { Encoded, RobertaTokenizer } from '../../src/model/tokenizer.js';

function expectWellFormed(tok: RobertaTokenizer, enc: Encoded): void {
  expect(enc.ids.length).toBeGreaterThanOrEqual(2);
  expect(enc.ids.length).toBeLessThanOrEqual(tok.maxLength);
  expect(enc.ids[0]).toBe(tok.bosId);
  expect(enc.ids[enc.ids.length - 1]).toBe(tok.eosId);
  expect(enc.tokenCount).toBeGreaterThanOrEqual(enc.ids.length);
  expect(enc.truncated).toBe(enc.tokenCount > tok.maxLength);
  for (const id of enc.ids) {
    expect(id).toBeGreaterThanOrEqual(0);
    expect(id).toBeLessThan(tok.vocabSize);
  }
}

for (const vocab of VOCABULARIES) {
  describe.skipIf(!vocab.available)(`RobertaTokenizer on hostile text (${vocab.name})`, () => {
    for (const [name, text] of Object.entries(HOSTILE_TEXTS)) {
      it(`encodes ${name} and decodes it back byte for byte`, async () => {
        const tok = await vocab.load(512);
        const enc = await tok.encode(text);
        expectWellFormed(tok, enc);
        if (name !== 'special token text') expect(await tok.decode(await tok.encodeFull(text))).toBe(text);
      });
    }

    it('encodes empty text as just <s></s>', async () => {
      const tok = await vocab.load(512);
      expect(await tok.encode('')).toEqual({ ids: Int32Array.of(tok.bosId, tok.eosId), tokenCount: 2, truncated: false, tokenizedChars: 0 });
    });

    it('encodes lone UTF-16 surrogates (invalid Unicode) without throwing', async () => {
      const tok = await vocab.load(512);
      for (const text of ['\ud800', 'bad \udfff pair \ud83d', '\udc00\ud800']) expectWellFormed(tok, await tok.encode(text));
    });

    it('encodes a 1 MB text in one batch with a short one, in bounded time', { timeout: 30_000 }, async () => {
      const tok = await vocab.load(512);
      const reviews = await sampleReviews();
      let big = '';
      for (let i = 0; big.length < 1_000_000; i++) big += `${reviews[i % reviews.length]} 日本語 😀\u0000 `;
      const started = performance.now();
      const [long, short] = await tok.encodeBatch([big, 'short']);
      const ms = performance.now() - started;
      expectWellFormed(tok, long);
      expectWellFormed(tok, short);
      expect(long.truncated).toBe(true);
      // Only a prefix past the 512 tokens is tokenized (tokenizer.ts, cutAt): the count is a lower bound.
      expect(long.tokenCount).toBeGreaterThan(512);
      expect(long.tokenizedChars).toBeLessThan(big.length / 10);
      // ~1-2 s on 2 cores; 20 s would mean something quadratic.
      expect(ms).toBeLessThan(20_000);
    });
  });
}
