/**
 * ioredis resends single commands that were in flight when Redis went away, but rejects the
 * commands of a MULTI that Redis had started to queue ("Command aborted due to connection
 * close"). BullMQ's addBulk is such a MULTI: a Redis restart at that moment ended `enqueue`
 * (seen once in the restart chaos test). Here the moment is made certain, on any machine and
 * under any load: the client talks to Redis through a proxy that, once armed, forwards only
 * the first bytes of the MULTI and holds the rest. When a second, direct connection's CLIENT
 * LIST shows the transaction half queued (multi=N), Redis is SIGKILLed (the proxy closes the
 * client's connection with it) and started again on its port.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { expect, it, onTestFinished } from 'vitest';
import { RedisServer } from '../../src/pipeline/redis-server.js';
import { isConnectionDrop, retryOnConnectionDrop } from '../../src/shared/redis.js';
import { logger } from '../../src/shared/logger.js';

/** ~0.9 MB of commands; the proxy lets the first 64 KB through (a few thousand SETs). */
const COMMANDS = 20_000;
const FORWARD_BYTES = 64 * 1024;

/** A MULTI of COMMANDS SETs and a GET. */
function bigMulti(c: Redis): Promise<unknown> {
  const m = c.multi();
  for (let i = 0; i < COMMANDS; i++) m.set(`k${i % 100}`, 'v'.repeat(32));
  m.get('k');
  return m.exec();
}

/**
 * A TCP proxy to the server's port. `hold()` arms it: from then on each connection forwards at
 * most FORWARD_BYTES more to Redis and keeps the rest. When Redis closes a connection, the
 * proxy closes the client's side, as a dead Redis would.
 */
async function startProxy(upstreamPort: number) {
  let armed = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let budget = Infinity;
    client.on('data', (chunk: Buffer) => {
      if (armed && budget === Infinity) budget = FORWARD_BYTES;
      if (budget <= 0) return;
      const part = chunk.length > budget ? chunk.subarray(0, budget) : chunk;
      if (budget !== Infinity) budget -= part.length;
      upstream.write(part);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: () => { armed = true; },
    release: () => { armed = false; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

type Proxy = Awaited<ReturnType<typeof startProxy>>;

/** Sends the MULTI through `send` while the proxy holds it back, and restarts Redis once it is half queued. */
async function restartMidTransaction(server: RedisServer, proxy: Proxy, send: () => Promise<unknown>): Promise<{ result: Promise<unknown> }> {
  const watcher = new Redis(server.url, { maxRetriesPerRequest: 1 });
  watcher.on('error', () => {});
  proxy.hold();
  const result = send();
  result.catch(() => {});
  for (;;) {
    const list = String(await watcher.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    const queued = list.split('\n').filter((l) => !l.includes('cmd=client')).map((l) => Number(/ multi=(-?\d+)/.exec(l)?.[1] ?? -1));
    if (queued.some((n) => n > 0)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  watcher.disconnect();
  await server.kill();
  proxy.release();
  await server.start();
  // Wrapped: an async function returning the promise itself would wait for it.
  return { result };
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
  const proxy = await startProxy(server.port);
  onTestFinished(() => proxy.close());
  const c = client(proxy.url);
  await c.set('k', 'v');

  // Without the retry: the failure the producer met.
  const { result: failed } = await restartMidTransaction(server, proxy, () => bigMulti(c));
  const err = await failed.then(() => 'resolved', (e: unknown) => e);
  expect(isConnectionDrop(err), String(err)).toBe(true);

  // With it: the same step gives its answer once Redis is back.
  await c.set('k', 'v');
  let attempts = 0;
  const { result: retried } = await restartMidTransaction(server, proxy, () =>
    retryOnConnectionDrop('adding jobs', () => { attempts++; return bigMulti(c); }, { log: logger().child({ test: 'restart' }), waitMs: 30_000 }));
  const outcome = await retried;
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
