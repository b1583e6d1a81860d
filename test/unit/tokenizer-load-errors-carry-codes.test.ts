import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { FIXTURE_TOKENIZER_DIR } from '../helpers/tokenizer-fixtures.js';

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tokenizer-errors-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('RobertaTokenizer load failures', () => {
  it('rejects a maxLength below 3 with E_CONFIG', async () => {
    for (const maxLength of [2, 0, 1.5, Number.NaN]) {
      await expect(RobertaTokenizer.fromDir(FIXTURE_TOKENIZER_DIR, { maxLength })).rejects.toMatchObject({ code: 'E_CONFIG' });
    }
  });

  it('reports a directory without tokenizer files as E_TOKENIZER naming the file', async () => {
    const dir = await scratchDir();
    await expect(RobertaTokenizer.fromDir(dir, { maxLength: 512 }))
      .rejects.toMatchObject({ code: 'E_TOKENIZER', context: { file: path.join(dir, 'vocab.json') } });
  });

  it('reports an unparsable tokenizer.json as E_TOKENIZER', async () => {
    const dir = await scratchDir();
    await writeFile(path.join(dir, 'tokenizer.json'), '{"version": "1.0", "model": ');
    await expect(RobertaTokenizer.fromDir(dir, { maxLength: 512 })).rejects.toMatchObject({ code: 'E_TOKENIZER' });
  });

  it('refuses a tokenizer.json whose pipeline does not add <s> … </s>', async () => {
    const dir = await scratchDir();
    const json = JSON.parse(await readFile(path.join(FIXTURE_TOKENIZER_DIR, 'tokenizer.json'), 'utf8'));
    json.post_processor = null;
    await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    await expect(RobertaTokenizer.fromDir(dir, { maxLength: 512 }))
      .rejects.toMatchObject({ code: 'E_TOKENIZER', message: expect.stringContaining('does not wrap') });
  });
});
