/**
 * 2,000 documents through `roberta-batch run` give 2,000 results; each
 * equals the engine's direct single-document result within 1e-4; the mean batch size seen in
 * the metrics is above 8.
 */
import { readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { OnnxEngine } from '../../src/worker/engine.js';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';
import type { OkRecord } from '../../src/shared/types.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { maxAbsDiff, testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/temp-dir.js';

it('scores every document once, each exactly as the engine scores it alone', async () => {
  const dir = tempDir('rb-run-');
  const docs = syntheticDocs(2000);
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(docs));
  const model = await testModel('sequence-classification', 'hf');
  const out = path.join(dir, 'out.jsonl');

  const res = await runCli(['run', input, '--out', out, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash'], {}, 180_000);
  expect(res.code, res.output.slice(-2000)).toBe(0);

  const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OkRecord);
  expect(records).toHaveLength(2000);
  expect(new Set(records.map((r) => r.id)).size).toBe(2000);
  expect(readFileSync(path.join(dir, 'out.errors.jsonl'), 'utf8')).toBe('');
  const meanBatch = Number(/mean batch ([\d.]+) docs/.exec(res.output)?.[1]);
  expect(meanBatch).toBeGreaterThan(8);

  const tokenizer = await RobertaTokenizer.fromDir(FIXTURE_TOKENIZER, { maxLength: 512 });
  const engine = await OnnxEngine.open(model.path, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
  try {
    const byId = new Map(docs.map((d) => [d.id, d.text]));
    const encoded = await tokenizer.encodeBatch(records.map((r) => byId.get(r.id)!));
    let worst = 0;
    for (let i = 0; i < records.length; i++) {
      const ids = encoded[i].ids;
      const alone = await engine.run({ rows: 1, seq: ids.length, ids, lengths: Int32Array.of(ids.length) });
      worst = Math.max(worst, maxAbsDiff(records[i].sentiment!.logits, Array.from(alone.data)));
      expect(records[i].tokenCount).toBe(encoded[i].tokenCount);
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
  } finally {
    await engine.close();
  }
}, 240_000);
