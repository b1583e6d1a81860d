import { describe, expect, it } from 'vitest';
import { VOCABULARIES } from '../helpers/tokenizer-fixtures.js';

/** " the the the …" with `n` words: one token ("Ġthe") per word in both vocabularies (checked). */
const words = (n: number): string => ' the'.repeat(n);

for (const vocab of VOCABULARIES) {
  describe.skipIf(!vocab.available)(`RobertaTokenizer truncation (${vocab.name})`, () => {
    it('keeps a text of exactly maxLength tokens (specials included) whole', async () => {
      const tok = await vocab.load(16);
      expect((await tok.encodeFull(words(14))).length).toBe(14);
      const enc = await tok.encode(words(14));
      expect(enc.ids.length).toBe(16);
      expect(enc.tokenCount).toBe(16);
      expect(enc.truncated).toBe(false);
    });

    it('cuts one token over maxLength to <s> + maxLength-2 content ids + </s>', async () => {
      const tok = await vocab.load(16);
      const enc = await tok.encode(words(15));
      const full = await tok.encodeFull(words(15));
      expect(enc.truncated).toBe(true);
      expect(enc.tokenCount).toBe(17);
      expect(Array.from(enc.ids)).toEqual([tok.bosId, ...full.slice(0, 14), tok.eosId]);
    });

    it('counts every token of a long text at maxLength 512', async () => {
      const tok = await vocab.load(512);
      const text = 'The plot is thin but the soundtrack is wonderful. '.repeat(200);
      const full = await tok.encodeFull(text);
      const enc = await tok.encode(text);
      expect(full.length).toBeGreaterThan(1000);
      expect(enc.tokenCount).toBe(full.length + 2);
      expect(enc.truncated).toBe(true);
      expect(enc.ids.length).toBe(512);
      expect(enc.ids[0]).toBe(tok.bosId);
      expect(enc.ids[511]).toBe(tok.eosId);
      expect(Array.from(enc.ids.subarray(1, 511))).toEqual(Array.from(full.subarray(0, 510)));
    });
  });
}
