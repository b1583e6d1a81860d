/**
 * `run` interrupted while a batch is inside onnxruntime, with the grace period over, used to
 * die by SIGABRT (exit 134, "terminate called after throwing an instance of 'Napi::Error'"):
 * process.exit() ran onnxruntime's destructors under the session still computing in the
 * inference thread. Now the exit waits for that batch and the thread's close
 * (src/shared/exit-hooks.ts), and the exit is the documented 1 with E_SHUTDOWN.
 *
 * `--shutdown-grace-ms 0`: the grace is over at once, on any machine. SIGINT goes right after
 * the first batch is done, so the second one (16 long documents on the slow model, as long as
 * the first) is inside onnxruntime; the log line saying the exit waits for it shows it was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { toJsonl } from '../helpers/corpus.js';
import { redisUrl } from '../helpers/queues.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';
import { withDeadline } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-abort-'));
let spawned: Spawned | undefined;
afterAll(async () => {
  if (spawned) await stop(spawned, 5_000);
  rmSync(dir, { recursive: true, force: true });
});

it('exits 1 with E_SHUTDOWN, not SIGABRT, when interrupted past its grace period during a batch', async () => {
  const input = path.join(dir, 'long.jsonl');
  writeFileSync(input, toJsonl(longDocs(48)));
  spawned = spawnCli(['run', input, '--out', path.join(dir, 'out.jsonl'), '--model', await slowModel(), '--tokenizer', FIXTURE_TOKENIZER,
    '--skip-hash', '--max-batch-size', '16', '--intra-op-threads', '1', '--shutdown-grace-ms', '0'], { REDIS_URL: redisUrl(), LOG_LEVEL: 'debug' });
  await spawned.waitForEvent(LOG_EVENT.batch, 120_000);
  spawned.kill('SIGINT');
  const code = await withDeadline(spawned.exited, 120_000, 'run');
  const output = spawned.output();
  expect(output).toMatch(/exiting once the batch inside onnxruntime is done/);
  expect(output).not.toMatch(/terminate called|Napi::Error/);
  expect(code, output.slice(-2000)).toBe(1);
  expect(output).toMatch(/E_SHUTDOWN: run run-\S+ interrupted/);
  spawned = undefined;
}, 240_000);
