/**
 * `eval --labels negative,neutral,positive` on a 2-output model printed a 3-class report with
 * exit 0, and `run --labels bad` labelled documents `bad` and `label_1`. A label count other
 * than the model's outputs is E_CONFIG (exit 2) before any job is taken: no result is written
 * and the run's queue never had a job completed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-labels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('run and eval refuse --labels whose count differs from the model outputs; the right count works', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(20, 3).map((d, i) => ({ ...d, label: i % 2 ? 'positive' : 'negative' }))));
  const common = ['--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash', '--intra-op-threads', '1'];

  for (const labels of ['bad', 'negative,neutral,positive']) {
    const out = path.join(dir, `run-${labels.length}.jsonl`);
    const run = await runCli(['run', input, '--out', out, '--labels', labels, ...common]);
    expect(run.code, run.output.slice(-2000)).toBe(2);
    expect(run.output).toMatch(new RegExp(`E_CONFIG: --labels names ${labels.split(',').length} labels \\(${labels.replace(/,/g, ', ')}\\), but .* has 2 outputs`));
    // No document was scored under the wrong names.
    expect(existsSync(out) ? readFileSync(out, 'utf8') : '').toBe('');
    expect(run.output).not.toMatch(/"documents_scored"|succeeded \d/);
  }

  const ev = await runCli(['eval', '--data', input, '--label-field', 'label', '--labels', 'negative,neutral,positive', ...common]);
  expect(ev.code, ev.output.slice(-2000)).toBe(2);
  expect(ev.output).toMatch(/E_CONFIG: --labels names 3 labels/);
  expect(ev.output).not.toMatch(/accuracy/i);

  const ok = path.join(dir, 'ok.jsonl');
  const good = await runCli(['run', input, '--out', ok, '--labels', 'bad,good', ...common]);
  expect(good.code, good.output.slice(-2000)).toBe(0);
  const labelsSeen = new Set(readFileSync(ok, 'utf8').trim().split('\n').map((l) => JSON.parse(l).sentiment.label));
  for (const l of labelsSeen) expect(['bad', 'good']).toContain(l);
}, 180_000);
