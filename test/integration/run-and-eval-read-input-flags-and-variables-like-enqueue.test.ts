/**
 * `run` ignored RB_ENCODING=latin1 and RB_ID_FIELD=textID (its own flag defaults won over the
 * variables) and refused --max-job-bytes, the flag its E_INPUT_TOO_LARGE message names. `run`
 * and `eval` now read the input options through enqueue's schema: flags over RB_* over defaults.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { testModel } from '../helpers/models.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-runflags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

it('run honours RB_ENCODING, RB_ID_FIELD and --max-job-bytes; eval honours RB_ENCODING; bad values exit 2', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const common = ['--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash', '--intra-op-threads', '1'];
  // latin-1 bytes (é = 0xe9) are not valid UTF-8: with utf8 every row would be rejected.
  const csv = path.join(dir, 'reviews.csv');
  const rows = ['textID,text,label', ...Array.from({ length: 12 }, (_, i) => `t${i},caf\xe9 number ${i} was ${i % 2 ? 'great' : 'awful'},${i % 2 ? 'positive' : 'negative'}`)];
  writeFileSync(csv, Buffer.from(`${rows.join('\n')}\n`, 'latin1'));

  const out = path.join(dir, 'out.jsonl');
  const run = await runCli(['run', csv, '--out', out, ...common], { RB_ENCODING: 'latin1', RB_ID_FIELD: 'textID' });
  expect(run.code, run.output.slice(-2000)).toBe(0);
  const recs = lines(out);
  expect(recs.map((r) => r.id).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `t${i}`).sort());
  expect(recs.every((r) => r.status === 'ok')).toBe(true);
  // The flag still wins over the variable.
  const flagOut = path.join(dir, 'flag.jsonl');
  const flagWins = await runCli(['run', csv, '--out', flagOut, '--encoding', 'utf8', ...common], { RB_ENCODING: 'latin1', RB_ID_FIELD: 'textID' });
  expect(flagWins.code, flagWins.output.slice(-2000)).toBe(0);
  expect(lines(`${flagOut.replace(/\.jsonl$/, '')}.errors.jsonl`).filter((e) => /not valid UTF-8/.test(e.message ?? e.reason ?? ''))).toHaveLength(12);

  // --max-job-bytes is accepted and applied: a 3,000-byte document is over 2,048.
  const jsonl = path.join(dir, 'sizes.jsonl');
  writeFileSync(jsonl, `${JSON.stringify({ id: 'small', text: 'short and sweet' })}\n${JSON.stringify({ id: 'big', text: 'word '.repeat(600) })}\n`);
  const sized = path.join(dir, 'sized.jsonl');
  const limited = await runCli(['run', jsonl, '--out', sized, '--max-job-bytes', '2048', ...common]);
  expect(limited.code, limited.output.slice(-2000)).toBe(0);
  expect(lines(sized).map((r) => r.id)).toEqual(['small']);
  const rejected = lines(path.join(dir, 'sized.errors.jsonl'));
  expect(rejected.map((e) => [e.lineNo, e.code])).toEqual([[2, 'E_INPUT_TOO_LARGE']]);
  expect(rejected[0].message).toMatch(/over the 2048-byte job limit \(--max-job-bytes\)/);

  const ev = await runCli(['eval', '--data', csv, '--label-field', 'label', '--json', ...common], { RB_ENCODING: 'latin1', RB_ID_FIELD: 'textID', LOG_LEVEL: 'warn' });
  expect(ev.code, ev.output.slice(-2000)).toBe(0);
  expect(JSON.parse(ev.output.slice(ev.output.indexOf('{\n'))).rows).toMatchObject({ read: 12, unreadable: 0, scored: 12 });

  const bad = await runCli(['run', csv, '--out', path.join(dir, 'bad.jsonl'), ...common], { RB_ENCODING: 'ebcdic' });
  expect(bad.code).toBe(2);
  expect(bad.output).toMatch(/--encoding \(RB_ENCODING\) "ebcdic": expected utf8 or latin1/);
}, 240_000);
