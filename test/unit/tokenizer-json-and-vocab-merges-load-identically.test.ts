import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';
import {
  FIXTURE_TOKENIZER_DIR,
  HOSTILE_TEXTS,
  REAL_ROBERTA_DIR,
  hasRealRoberta,
  sampleReviews,
} from '../helpers/tokenizer-fixtures.js';

async function idsOf(tok: RobertaTokenizer, texts: string[]): Promise<number[][]> {
  return (await tok.encodeBatch(texts)).map((e) => Array.from(e.ids));
}

async function sample(): Promise<string[]> {
  const reviews = await sampleReviews();
  return [...reviews, ...Object.values(HOSTILE_TEXTS), reviews.join(' ')];
}

describe('tokenizer.json and vocab.json + merges.txt (trained test vocabulary)', () => {
  it('give identical ids, vocabulary size and special ids', async () => {
    const opts = { maxLength: 64 };
    const fromJson = await RobertaTokenizer.fromTokenizerJson(path.join(FIXTURE_TOKENIZER_DIR, 'tokenizer.json'), opts);
    const fromFiles = await RobertaTokenizer.fromVocabMerges(
      path.join(FIXTURE_TOKENIZER_DIR, 'vocab.json'),
      path.join(FIXTURE_TOKENIZER_DIR, 'merges.txt'),
      opts,
    );
    const texts = await sample();
    expect(await idsOf(fromJson, texts)).toEqual(await idsOf(fromFiles, texts));
    expect([fromJson.vocabSize, fromJson.bosId, fromJson.padId, fromJson.eosId])
      .toEqual([fromFiles.vocabSize, fromFiles.bosId, fromFiles.padId, fromFiles.eosId]);
  });
});

describe.skipIf(!hasRealRoberta)('tokenizer.json and vocab.json + merges.txt (roberta-base vocabulary)', () => {
  it('give identical ids after saving the vocab + merges pipeline as tokenizer.json', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'roberta-tokenizer-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const fromFiles = await RobertaTokenizer.fromDir(REAL_ROBERTA_DIR, { maxLength: 512 });
    fromFiles.saveTokenizerJson(path.join(dir, 'tokenizer.json'));
    const fromJson = await RobertaTokenizer.fromDir(dir, { maxLength: 512 });
    const texts = await sample();
    expect(await idsOf(fromJson, texts)).toEqual(await idsOf(fromFiles, texts));
    expect(fromJson.vocabSize).toBe(50265);
  });
});
