/**
 * The worker's TokenizeQueue coalesces the texts of concurrent jobs into shared encodeBatch
 * calls of at most maxBatch texts, and answers each job once, with its texts' encodings in
 * its own order. When the tokenizer rejects one call, the texts are encoded one by one and
 * only the rejected text gets a DocumentError in its place. Real tokenizer (the project's
 * test vocabulary); the rejecting one wraps it and refuses texts holding a marker.
 */
import { expect, it } from 'vitest';
import { DocumentError } from '../../src/shared/errors.js';
import type { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { TokenizeQueue } from '../../src/worker/tokenize-queue.js';
import { VOCABULARIES, sampleReviews } from '../helpers/tokenizer-fixtures.js';

const vocab = VOCABULARIES[0];

it('answers concurrent jobs, larger than one call, with their own texts in order', async () => {
  const tok = await vocab.load(64);
  const calls: number[] = [];
  const counting = { encodeBatch: (texts: string[]) => { calls.push(texts.length); return tok.encodeBatch(texts); } } as unknown as RobertaTokenizer;
  const q = new TokenizeQueue(counting, () => {}, 16);
  const reviews = await sampleReviews();
  const jobs = [reviews.slice(0, 40), reviews.slice(40, 43), reviews.slice(43, 60).reverse()];
  const answers = await Promise.all(jobs.map((texts) => q.encodeMany(texts)));
  expect(Math.max(...calls)).toBeLessThanOrEqual(16);
  expect(calls.reduce((a, n) => a + n, 0)).toBe(60);
  for (const [j, texts] of jobs.entries()) {
    expect(answers[j]).toHaveLength(texts.length);
    for (const [i, text] of texts.entries()) expect(Array.from((answers[j][i] as { ids: Int32Array }).ids)).toEqual(Array.from((await tok.encode(text)).ids));
  }
  expect(await q.encodeMany([])).toEqual([]);
});

it('gives only the text the tokenizer rejects a DocumentError, and encode() rejects with it', async () => {
  const tok = await vocab.load(64);
  const picky = {
    encodeBatch: async (texts: string[]) => {
      if (texts.some((t) => t.includes('\u0000BAD'))) throw new Error('input is not valid');
      return tok.encodeBatch(texts);
    },
  } as unknown as RobertaTokenizer;
  const q = new TokenizeQueue(picky);
  const texts = ['a fine film', 'x\u0000BAD', 'dull and long'];
  const out = await q.encodeMany(texts);
  expect(out[1]).toBeInstanceOf(DocumentError);
  expect((out[1] as DocumentError).code).toBe('E_INPUT_INVALID');
  expect((out[1] as DocumentError).reason).toMatch(/the tokenizer rejected this text: input is not valid/);
  for (const i of [0, 2]) expect(Array.from((out[i] as { ids: Int32Array }).ids)).toEqual(Array.from((await tok.encode(texts[i])).ids));
  await expect(q.encode('y\u0000BAD')).rejects.toMatchObject({ code: 'E_INPUT_INVALID' });
});
