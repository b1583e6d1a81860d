/**
 * ioredis resends single commands that were in flight when Redis went away, but rejects the
 * commands of a MULTI that Redis had started to queue ("Command aborted due to connection
 * close"). BullMQ's addBulk is such a MULTI: a Redis restart at that moment ended `enqueue`
 * (seen once in the restart chaos test). Here the moment is made certain: a MULTI of 200,000
 * commands is sent, and once a second connection's CLIENT LIST shows it half queued (multi=N),
 * the server is paused (SIGSTOP), SIGKILLed and started again on its port.
 */
import { Redis } from 'ioredis';
import { expect, it, onTestFinished } from 'vitest';
import { RedisServer } from '../../src/pipeline/redis-server.js';
import { isConnectionDrop, retryOnConnectionDrop } from '../../src/shared/redis.js';
import { logger } from '../../src/shared/logger.js';

const COMMANDS = 200_000;

/** A MULTI that takes Redis a while to receive, queue and run. */
function bigMulti(c: Redis): Promise<unknown> {
  const m = c.multi();
  for (let i = 0; i < COMMANDS; i++) m.set(`k${i % 100}`, 'v');
  m.get('k');
  return m.exec();
}

/**
 * Sends the MULTI through `send`, restarts Redis while it is half queued; false when Redis
 * finished the whole transaction before it was caught (the caller tries again).
 */
async function restartMidTransaction(server: RedisServer, watcher: Redis, send: () => Promise<unknown>): Promise<{ caught: boolean; result: Promise<unknown> }> {
  const result = send();
  result.catch(() => {});
  for (;;) {
    const list = String(await watcher.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    const queued = list.split('\n').filter((l) => !l.includes('cmd=client')).map((l) => Number(/ multi=(-?\d+)/.exec(l)?.[1] ?? -1));
    if (queued.some((n) => n > 0)) {
      process.kill(server.pid!, 'SIGSTOP');
      break;
    }
    if (await Promise.race([result.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 1))])) return { caught: false, result };
  }
  watcher.disconnect();
  await server.kill();
  await server.start();
  return { caught: true, result };
}

function client(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(50 * n, 500) });
  c.on('error', () => {});
  onTestFinished(() => { c.disconnect(); });
  return c;
}

it('a MULTI half queued when Redis restarts is rejected by ioredis, and retryOnConnectionDrop runs it again', async () => {
  const server = await RedisServer.start({ appendonly: true });
  onTestFinished(() => server.stop());
  const c = client(server.url);
  await c.set('k', 'v');

  // Without the retry: the failure the producer met.
  let err: unknown;
  for (let attempt = 0; attempt < 5 && err === undefined; attempt++) {
    const { caught, result } = await restartMidTransaction(server, client(server.url), () => bigMulti(c));
    if (caught) err = await result.then(() => 'resolved', (e: unknown) => e);
  }
  expect(isConnectionDrop(err), String(err)).toBe(true);

  // With it: the same step gives its answer once Redis is back.
  let attempts = 0;
  let outcome: unknown;
  for (let attempt = 0; attempt < 5 && outcome === undefined; attempt++) {
    attempts = 0;
    const { caught, result } = await restartMidTransaction(server, client(server.url), () =>
      retryOnConnectionDrop('adding jobs', () => { attempts++; return bigMulti(c); }, { log: logger().child({ test: 'restart' }), waitMs: 30_000 }));
    if (caught) outcome = await result;
  }
  expect(attempts).toBeGreaterThanOrEqual(2);
  expect((outcome as unknown[]).at(-1)).toEqual([null, 'v']);
}, 120_000);

it('other errors are not retried, and a connection that stays away ends in E_REDIS_UNREACHABLE', async () => {
  let attempts = 0;
  await expect(retryOnConnectionDrop('x', async () => { attempts++; throw new Error('WRONGTYPE Operation against a key'); }, { log: logger(), waitMs: 5_000 }))
    .rejects.toThrow(/WRONGTYPE/);
  expect(attempts).toBe(1);
  await expect(retryOnConnectionDrop('adding jobs', async () => { throw new Error('Command aborted due to connection close'); }, { log: logger(), waitMs: 600 }))
    .rejects.toMatchObject({ code: 'E_REDIS_UNREACHABLE' });
});
