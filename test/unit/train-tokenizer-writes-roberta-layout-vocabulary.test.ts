import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { byteSymbols, trainTestTokenizer } from '../helpers/train-tokenizer.js';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { FIXTURE_TOKENIZER_DIR } from '../helpers/tokenizer-fixtures.js';

async function trained(vocabSize?: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'train-tokenizer-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await trainTestTokenizer(dir, vocabSize === undefined ? {} : { vocabSize });
  return dir;
}

describe('trainTestTokenizer', () => {
  it('lays the vocabulary out as RoBERTa: specials 0..3, 256 byte symbols, merges, <mask> last', async () => {
    const dir = await trained(600);
    const vocab = JSON.parse(await readFile(path.join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(vocab)).toHaveLength(600);
    expect([vocab['<s>'], vocab['<pad>'], vocab['</s>'], vocab['<unk>'], vocab['<mask>']]).toEqual([0, 1, 2, 3, 599]);
    expect(byteSymbols().map((s) => vocab[s])).toEqual(Array.from({ length: 256 }, (_, i) => 4 + i));
    const merges = (await readFile(path.join(dir, 'merges.txt'), 'utf8')).trim().split('\n').slice(1);
    for (const line of merges) {
      const [left, right] = line.split(' ');
      expect([vocab[left], vocab[right], vocab[left + right]].every((id) => id !== undefined)).toBe(true);
    }
    const tok = await RobertaTokenizer.fromDir(dir, { maxLength: 512 });
    expect(tok.vocabSize).toBe(600);
  });

  it('regenerates the committed fixture byte for byte (training is deterministic)', async () => {
    const dir = await trained();
    for (const file of ['vocab.json', 'merges.txt', 'tokenizer.json']) {
      expect(await readFile(path.join(dir, file), 'utf8'), file)
        .toBe(await readFile(path.join(FIXTURE_TOKENIZER_DIR, file), 'utf8'));
    }
  });
});
