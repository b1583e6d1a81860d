/**
 * `run --workers abc` used to start zero workers and wait until killed. Every numeric flag of
 * `run` and `eval` (and its RB_ variable) is checked before anything starts: exit 2, and the
 * message names the flag, its variable, the value given and the values accepted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const input = path.join(dir, 'docs.jsonl');
writeFileSync(input, toJsonl(syntheticDocs(5, 3, 'flags').map((d) => ({ ...d, label: 0 }))));

const commands = {
  run: ['run', input, '--out', path.join(dir, 'out.jsonl')],
  eval: ['eval', '--data', input, '--label-field', 'label'],
};

const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
  ['--workers abc', ['--workers', 'abc'], {}, /--workers \(RB_WORKERS\) "abc": expected an integer from 1 to 256/],
  ['--workers 0', ['--workers', '0'], {}, /--workers \(RB_WORKERS\) "0": expected an integer from 1 to 256/],
  ['--workers 1.5', ['--workers', '1.5'], {}, /--workers \(RB_WORKERS\) "1.5": expected an integer from 1 to 256/],
  ['RB_WORKERS=many', [], { RB_WORKERS: 'many' }, /--workers \(RB_WORKERS\) "many": expected an integer from 1 to 256/],
  ['--docs-per-job x', ['--docs-per-job', 'x'], {}, /--docs-per-job \(RB_DOCS_PER_JOB\) "x": expected an integer from 1 to 10000/],
  ['--max-batch-size abc', ['--max-batch-size', 'abc'], {}, /--max-batch-size \(RB_MAX_BATCH_SIZE\) "abc": expected an integer from 1 to 4096/],
  ['--redis-wait-ms -1', ['--redis-wait-ms', '-1'], {}, /--redis-wait-ms \(RB_REDIS_WAIT_MS\) "-1": expected an integer from 0 to 3600000/],
];

for (const [command, base] of Object.entries(commands)) {
  for (const [name, extra, env, message] of cases) {
    it(`${command} ${name}: exit 2 with the accepted values`, async () => {
      const r = await runCli([...base, ...extra], env, 60_000);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toMatch(/^E_CONFIG: invalid configuration:/m);
      expect(r.output).toMatch(message);
      expect(r.output).not.toMatch(/^\s+at /m);
    });
  }
}
