import { describe, expect, it } from 'vitest';
import { HOSTILE_TEXTS, VOCABULARIES, sampleReviews } from '../helpers/tokenizer-fixtures.js';

for (const vocab of VOCABULARIES) {
  describe.skipIf(!vocab.available)(`RobertaTokenizer.encodeBatch (${vocab.name})`, () => {
    it('gives each text the same ids, count and flag as encoding it alone', async () => {
      const tok = await vocab.load(24);
      const reviews = await sampleReviews();
      const texts = [...reviews, ...Object.values(HOSTILE_TEXTS), reviews.join(' ')];
      const batch = await tok.encodeBatch(texts);
      expect(batch).toHaveLength(texts.length);
      for (const [i, text] of texts.entries()) {
        const single = await tok.encode(text);
        expect({ i, ...batch[i], ids: Array.from(batch[i].ids) }).toEqual({ i, ...single, ids: Array.from(single.ids) });
      }
      expect(batch.some((e) => e.truncated)).toBe(true);
    });

    it('returns an empty list for an empty batch', async () => {
      const tok = await vocab.load(24);
      expect(await tok.encodeBatch([])).toEqual([]);
    });
  });
}
