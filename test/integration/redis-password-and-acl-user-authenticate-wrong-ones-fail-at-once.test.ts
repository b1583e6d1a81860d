/**
 * Credentials in REDIS_URL. A private Redis with `requirepass` and an ACL user
 * (`ACL SETUSER`): producer, worker and exporter work with `redis://user:password@host:port`;
 * a wrong password or a missing one fails at once with E_REDIS_AUTH (exit 1, no retry loop, no
 * stack trace) and the password never appears in the output.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-auth-'));
const spawned: Spawned[] = [];
let redis: PrivateRedis | undefined;

afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s, 5_000)));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('authenticates an ACL user from REDIS_URL and refuses wrong credentials at once', async () => {
  const adminPass = `admin-${randomUUID()}`;
  const userPass = `user-${randomUUID()}`;
  redis = await startPrivateRedis({ args: ['--requirepass', adminPass] });
  const admin = new Redis({ port: redis.port, host: '127.0.0.1', password: adminPass, lazyConnect: true });
  await admin.connect();
  // What a BullMQ client needs: its keys, and every command it uses (Lua scripts, blocking pops, INFO, CONFIG GET).
  await admin.call('ACL', 'SETUSER', 'rb', 'on', `>${userPass}`, '~*', '&*', '+@all');
  await admin.quit();
  const base = `127.0.0.1:${redis.port}`;
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(20, 8, 'auth')));

  for (const url of [`redis://rb:wrong-${randomUUID()}@${base}`, `redis://${base}`, `redis://nobody:${userPass}@${base}`]) {
    const t0 = performance.now();
    const r = await runCli(['enqueue', input, '--queue', 'auth', '--no-progress'], { REDIS_URL: url }, 30_000);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/E_REDIS_AUTH: Redis at redis:\/\/\S+ refused the credentials: (WRONGPASS|NOAUTH)/);
    expect(r.output).not.toMatch(/^\s+at /m);
    expect(performance.now() - t0).toBeLessThan(10_000);
  }
  const model = await testModel('sequence-classification', 'hf');
  const workerArgs = ['worker', '--queue', 'auth', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'];
  const refused = await runCli(workerArgs, { REDIS_URL: `redis://rb:nope@${base}` }, 30_000);
  expect(refused.code).toBe(1);
  expect(refused.output).toMatch(/E_REDIS_AUTH: .*WRONGPASS/);
  expect(refused.output).toContain('redis://rb:***@');

  const env = { REDIS_URL: `redis://rb:${userPass}@${base}` };
  const enq = await runCli(['enqueue', input, '--queue', 'auth', '--no-progress'], env, 30_000);
  expect(enq.code, enq.output).toBe(0);
  expect(enq.output).toMatch(/enqueued\s+20/);
  const worker = spawnCli(workerArgs, env);
  spawned.push(worker);
  await worker.waitForEvent(LOG_EVENT.ready);
  const out = path.join(dir, 'out.jsonl');
  await waitFor(async () => {
    const r = await runCli(['results', '--queue', 'auth', '--out', out], env, 30_000);
    expect(r.code, r.output).toBe(0);
    return readFileSync(out, 'utf8').split('\n').filter(Boolean).length === 20;
  }, 60_000, 500);
  expect(await stop(worker)).toBe(0);
  for (const s of [worker.output(), enq.output, refused.output]) {
    expect(s).not.toContain(userPass);
    expect(s).not.toContain(adminPass);
  }
}, 120_000);
