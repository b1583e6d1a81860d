import { describe, expect, it } from 'vitest';
import { VOCABULARIES, sampleReviews } from '../helpers/tokenizer-fixtures.js';

for (const vocab of VOCABULARIES) {
  describe.skipIf(!vocab.available)(`RobertaTokenizer special tokens (${vocab.name})`, () => {
    it('has RoBERTa ids <s> 0, <pad> 1, </s> 2', async () => {
      const tok = await vocab.load(512);
      expect([tok.bosId, tok.padId, tok.eosId]).toEqual([0, 1, 2]);
    });

    it('wraps every text as <s> content </s>, content being encodeFull', async () => {
      const tok = await vocab.load(512);
      for (const text of (await sampleReviews()).slice(0, 20)) {
        const { ids } = await tok.encode(text);
        const content = await tok.encodeFull(text);
        expect(Array.from(ids)).toEqual([0, ...content, 2]);
        expect(content).not.toContain(0);
        expect(content).not.toContain(2);
      }
    });

    it('never splits special tokens written in the text; <unk> is 3 and <mask> the last id', async () => {
      const tok = await vocab.load(512);
      expect(Array.from(await tok.encodeFull('<s><pad></s><unk>'))).toEqual([0, 1, 2, 3]);
      const mask = tok.vocabSize - 1;
      expect(Array.from(await tok.encodeFull('<mask>'))).toEqual([mask]);
      // <mask> swallows the space on its left, as RobertaTokenizer declares it (lstrip).
      expect(Array.from(await tok.encodeFull('good <mask>'))).toEqual([...(await tok.encodeFull('good')), mask]);
    });
  });
}
