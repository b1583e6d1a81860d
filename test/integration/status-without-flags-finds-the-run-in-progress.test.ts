/**
 * `run` scores on a queue of its own (named by its run id), so `status` with no flags looked at
 * the default queue and could not find it: the id was only in a log line. A run in progress is
 * registered (with an expiry) and `status` without --queue shows it; once the run ends the
 * entry is gone. And `run` checks its input before loading (and hashing) the model.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { connect } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl } from '../helpers/queues.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-status-'));
// A prefix of its own: runs of other tests on the shared Redis register under theirs.
const prefix = `st${randomUUID().slice(0, 8)}`;
let run: Spawned | undefined;
afterAll(async () => {
  if (run) await stop(run);
  const r = connect(redisUrl());
  await r.connect();
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

it('status with no --queue shows the run that run is doing, and nothing once it ended', async () => {
  const model = await slowModel();
  const input = path.join(dir, 'long.jsonl');
  // One batch of 32, several seconds on the slow model: `status` (a CLI start and two Redis
  // reads, a fraction of that) runs well inside it.
  writeFileSync(input, toJsonl(longDocs(32)));
  const out = path.join(dir, 'out.jsonl');
  run = spawnCli(['run', input, '--out', out, '--model', model, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash', '--prefix', prefix, '--intra-op-threads', '1'], { REDIS_URL: redisUrl() });
  const started = await run.waitForOutput(/"runId":"run-[^"]+"[^\n]*run starting/, 60_000);
  const runId = /"runId":"(run-[^"]+)"/.exec(started)![1];
  await run.waitForOutput(/enqueue finished/, 60_000);

  const status = await runCli(['status', '--prefix', prefix], { REDIS_URL: redisUrl() }, 30_000);
  expect(status.code, status.output).toBe(0);
  expect(status.output).toContain(`run ${runId} in progress`);
  expect(status.output).toContain(`queue ${runId}:`);
  expect(status.output).toMatch(new RegExp(`${runId}\\s+(running|enqueueing|complete)\\s+queued 32`));

  expect(await run.exited).toBe(0);
  run = undefined;
  const r = connect(redisUrl());
  await r.connect();
  // The run's entry in <prefix>:rb:active-runs (src/shared/active-runs.ts) went with it.
  expect(await r.zcard(`${prefix}:rb:active-runs`)).toBe(0);
  r.disconnect();
  const after = await runCli(['status', '--prefix', prefix], { REDIS_URL: redisUrl() }, 30_000);
  expect(after.output).not.toContain('in progress');
}, 240_000);

it('run with a missing input fails at once, before Redis, workers and the model', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const res = await runCli(['run', path.join(dir, 'no-such-file.jsonl'), '--out', path.join(dir, 'x.jsonl'), '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER]);
  expect(res.code).toBe(1);
  expect(res.output).toMatch(/E_INPUT_INVALID: cannot read input ".*no-such-file\.jsonl": ENOENT/);
  expect(res.output).not.toMatch(/loading model|model loaded|run starting|sha256/);
});
