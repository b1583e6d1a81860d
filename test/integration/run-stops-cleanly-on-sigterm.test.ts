/**
 * `roberta-batch run` on SIGTERM: stops reading, lets the workers finish their jobs in flight,
 * cleans up (queues, the private redis-server it started) and exits 1 with E_SHUTDOWN.
 */
import { writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { FIXTURE_TOKENIZER, spawnCli } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';
import { toJsonl } from '../helpers/corpus.js';
import { canConnect } from '../../src/shared/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

it('drains, removes its private Redis and exits with E_SHUTDOWN', async () => {
  const dir = tempDir('rb-run-sigterm-');
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(longDocs(64)));
  // An unreachable REDIS_URL is not used: `run` falls back to 127.0.0.1:6379 or a private server.
  const run = spawnCli(['run', input, '--out', path.join(dir, 'out.jsonl'), '--model', await slowModel(), '--tokenizer', FIXTURE_TOKENIZER,
    '--skip-hash', '--max-batch-size', '8', '--intra-op-threads', '1'], { REDIS_URL: '' });
  await run.waitForEvent(LOG_EVENT.ready, 60_000);
  await run.waitForOutput(/enqueue finished/, 30_000);
  const redisPort = Number(/"redis":"redis:\/\/127\.0\.0\.1:(\d+)"/.exec(run.output())?.[1] ?? 6379);
  run.kill('SIGTERM');
  const code = await run.exited;
  expect(code, run.output().slice(-2000)).toBe(1);
  expect(run.output()).toMatch(/E_SHUTDOWN: run run-\S+ interrupted/);
  expect(run.output()).not.toMatch(/\n\s+at /);
  if (redisPort !== 6379) expect(await canConnect(redisPort)).toBe(false);
}, 120_000);
