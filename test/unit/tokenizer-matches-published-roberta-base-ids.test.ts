import { describe, expect, it } from 'vitest';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { REAL_ROBERTA_DIR, hasRealRoberta } from '../helpers/tokenizer-fixtures.js';

// Expected ids as published by Hugging Face, not computed here:
// - "Hello world" / " Hello world": RobertaTokenizer docstring (transformers,
//   models/roberta/tokenization_roberta.py), the leading space changes the first token;
// - "This is an example": huggingface/tokenizers bindings/python/tests/examples/test_load.py
//   (data/roberta.json, without specials).
describe.skipIf(!hasRealRoberta)('RobertaTokenizer with the roberta-base vocabulary', () => {
  it('encodes "Hello world" as [0, 31414, 232, 2] and " Hello world" as [0, 20920, 232, 2]', async () => {
    const tok = await RobertaTokenizer.fromDir(REAL_ROBERTA_DIR, { maxLength: 512 });
    const [plain, spaced] = await tok.encodeBatch(['Hello world', ' Hello world']);
    expect(Array.from(plain.ids)).toEqual([0, 31414, 232, 2]);
    expect(Array.from(spaced.ids)).toEqual([0, 20920, 232, 2]);
  });

  it('encodes "This is an example" without specials as [713, 16, 41, 1246]', async () => {
    const tok = await RobertaTokenizer.fromDir(REAL_ROBERTA_DIR, { maxLength: 512 });
    expect(Array.from(await tok.encodeFull('This is an example'))).toEqual([713, 16, 41, 1246]);
  });

  it('has 50265 ids with <mask> at 50264, as config.json vocab_size says', async () => {
    const tok = await RobertaTokenizer.fromDir(REAL_ROBERTA_DIR, { maxLength: 512 });
    expect(tok.vocabSize).toBe(50265);
    expect(Array.from(await tok.encodeFull('<mask>'))).toEqual([50264]);
  });
});
