/**
 * The one private redis-server (src/pipeline/redis-server.ts): a SIGKILL and a start again
 * keep the port and, with the append-only file, every acknowledged write; stop() ends even a
 * paused (SIGSTOP) server by SIGKILL after its deadline and removes the folder; a missing
 * redis-server is E_REDIS_MISSING; `run`'s ensureRedis starts one when asked for a private Redis.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { expect, it, onTestFinished } from 'vitest';
import { ensureRedis } from '../../src/pipeline/ensure-redis.js';
import { RedisServer } from '../../src/pipeline/redis-server.js';
import { canConnect } from '../../src/shared/ports.js';

async function client(url: string): Promise<Redis> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  onTestFinished(() => { c.disconnect(); });
  await c.connect();
  return c;
}

it('restarts on the same port with what the append-only file holds, then stops and removes its folder', async () => {
  const server = await RedisServer.start({ appendonly: true });
  onTestFinished(() => server.stop());
  const before = await client(server.url);
  await before.set('kept', 'yes');
  before.disconnect();
  const { port, pid } = server;

  await server.kill();
  expect(server.running).toBe(false);
  await server.start();
  expect(server.port).toBe(port);
  expect(server.pid).not.toBe(pid);
  const after = await client(server.url);
  expect(await after.get('kept')).toBe('yes');
  expect(await after.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  after.disconnect();

  await server.stop();
  expect(server.running).toBe(false);
  expect(existsSync(server.dir)).toBe(false);
  expect(await canConnect(port)).toBe(false);
});

it('stop() ends a paused server by SIGKILL after its deadline', async () => {
  const server = await RedisServer.start();
  onTestFinished(() => server.stop());
  process.kill(server.pid!, 'SIGSTOP');
  await server.stop(200);
  expect(server.running).toBe(false);
  expect(existsSync(server.dir)).toBe(false);
});

it('reports E_REDIS_MISSING when redis-server is not on PATH', async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'rb-no-redis-'));
  const saved = process.env.PATH;
  onTestFinished(() => { process.env.PATH = saved; rmSync(empty, { recursive: true, force: true }); });
  process.env.PATH = empty;
  const err = await RedisServer.start().catch((e: unknown) => e);
  process.env.PATH = saved;
  expect(err).toMatchObject({ code: 'E_REDIS_MISSING' });
});

it('ensureRedis starts a private server when asked and stop() ends it', async () => {
  const redis = await ensureRedis(undefined, { private: true });
  onTestFinished(() => redis.stop());
  expect(redis.source).toBe('private');
  const c = await client(redis.url);
  expect(await c.ping()).toBe('PONG');
  c.disconnect();
  await redis.stop();
  expect(await canConnect(Number(new URL(redis.url).port))).toBe(false);
});
