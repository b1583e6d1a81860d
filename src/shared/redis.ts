/**
 * Redis connections: URL parsing (redis://, rediss:// with TLS, user/password ACL),
 * start-up checks (reachable, no key eviction) and a private redis-server for one-command runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { RobertaBatchError } from './errors.js';
import { logger } from './logger.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Where a URL points, without its password, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid REDIS_URL>';
  }
}

/**
 * ioredis options for a URL. `maxRetriesPerRequest: null` is what BullMQ requires for
 * blocking connections: commands wait for a reconnect instead of failing after 20 tries,
 * so a Redis restart pauses the pipeline rather than failing jobs.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RobertaBatchError('E_CONFIG', `REDIS_URL "${url}" is not a URL`, {
      hint: 'use redis://[user:password@]host:port[/db] or rediss:// for TLS',
    });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RobertaBatchError('E_CONFIG', `REDIS_URL scheme "${u.protocol}" is not supported`, {
      hint: 'use redis:// or rediss:// (TLS)',
    });
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const opts: RedisOptions = {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: Number.isFinite(db) ? db : 0,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect backoff (ms): 100, 200, 400 ... capped at 5000, forever. Logged by the caller.
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 6), 5_000),
  };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') {
    opts.tls = {
      servername: u.hostname,
      // Self-signed test servers: REDIS_TLS_INSECURE=1. Never the default.
      rejectUnauthorized: process.env.REDIS_TLS_INSECURE !== '1',
    };
    // A private CA (PEM file) verifies the server without turning verification off.
    const caFile = process.env.REDIS_TLS_CA;
    if (caFile) {
      try {
        opts.tls.ca = readFileSync(caFile);
      } catch (err) {
        throw new RobertaBatchError('E_CONFIG', `REDIS_TLS_CA "${caFile}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          hint: 'set REDIS_TLS_CA to the PEM file of the CA that signed the Redis server certificate',
          cause: err,
        });
      }
    }
  }
  return opts;
}

/**
 * The same options typed for BullMQ, which declares its own structural RedisOptions type
 * (ioredis' option types do not satisfy its index signature, though the values are identical).
 */
export function bullConnection(url: string): ConnectionOptions {
  return redisOptionsFromUrl(url) as ConnectionOptions;
}

export function connect(url: string, extra: Partial<RedisOptions> = {}): Redis {
  return new Redis({ ...redisOptionsFromUrl(url), lazyConnect: true, ...extra });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Redis answered but refused the credentials: waiting longer cannot fix that. */
const AUTH_FAILURE = /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid (username-)?password/i;

/**
 * Waits until Redis answers PING, with backoff (ms): 250, 500, 1000, 2000, 4000, 5000...
 * Gives up after `timeoutMs` with E_REDIS_UNREACHABLE. One warning line per attempt,
 * no stack traces: an unreachable Redis is an operational state, not a crash.
 * Refused credentials (WRONGPASS, NOAUTH) fail at once with E_REDIS_AUTH.
 */
export async function waitForRedis(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const log = logger();
  for (let attempt = 1; ; attempt++) {
    const client = connect(url, { retryStrategy: () => null, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    // ioredis rejects connect() with a bare "Connection is closed."; the reason (ECONNREFUSED,
    // WRONGPASS, a TLS error) arrives only on the 'error' event.
    let lastError: Error | undefined;
    client.on('error', (e: Error) => { lastError = e; });
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (err) {
      const reason = lastError ?? (err as Error);
      if (AUTH_FAILURE.test(reason.message)) {
        throw new RobertaBatchError('E_REDIS_AUTH', `Redis at ${redactRedisUrl(url)} refused the credentials: ${reason.message}`, {
          hint: 'put the right user and password in REDIS_URL: redis://user:password@host:port (ACL user) or redis://:password@host:port (requirepass)',
          cause: reason,
        });
      }
      const delay = Math.min(250 * 2 ** (attempt - 1), 5_000);
      if (Date.now() + delay > deadline) {
        throw new RobertaBatchError('E_REDIS_UNREACHABLE', `Redis at ${redactRedisUrl(url)} did not answer for ${Math.round(timeoutMs / 1000)} s`, {
          hint: 'start Redis or set REDIS_URL=redis://host:port (rediss:// for TLS)',
          cause: reason,
        });
      }
      log.warn({ redis: redactRedisUrl(url), attempt, retryInMs: delay, reason: reason.message }, 'waiting for Redis');
      await sleep(delay);
    } finally {
      client.disconnect();
    }
  }
}

/** `maxmemory-policy` of the server, read through CONFIG GET, else INFO (managed Redis often blocks CONFIG). */
export async function maxmemoryPolicy(client: Redis): Promise<string | undefined> {
  try {
    const res = (await client.config('GET', 'maxmemory-policy')) as string[];
    if (res?.[1]) return res[1];
  } catch {
    /* CONFIG disabled: fall through to INFO */
  }
  const info = await client.info('memory');
  return /maxmemory_policy:(\S+)/.exec(info)?.[1];
}

/**
 * BullMQ loses jobs when Redis evicts keys under memory pressure, so anything but
 * `noeviction` is refused unless the operator explicitly allows it (then a warning).
 */
export async function checkEvictionPolicy(url: string, allowEviction: boolean): Promise<void> {
  const client = connect(url, { maxRetriesPerRequest: 3 });
  client.on('error', () => {});
  try {
    await client.connect();
    const policy = await maxmemoryPolicy(client);
    if (policy && policy !== 'noeviction') {
      const msg = `Redis maxmemory-policy is "${policy}": under memory pressure Redis would delete queued jobs`;
      if (!allowEviction) {
        throw new RobertaBatchError('E_REDIS_CONFIG', msg, {
          hint: 'run `CONFIG SET maxmemory-policy noeviction` on Redis, or pass --allow-eviction to accept the risk',
        });
      }
      logger().warn({ policy }, `${msg} (allowed by --allow-eviction)`);
    }
  } finally {
    client.disconnect();
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.setTimeout(1_000);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface EnsuredRedis {
  url: string;
  source: 'env' | 'local' | 'private';
  stop(): Promise<void>;
}

/**
 * For `roberta-batch run`: REDIS_URL if set, else a Redis on 127.0.0.1:6379, else a private
 * redis-server started on a free port in a temp folder (stopped by `stop()`), else a clear error.
 */
export async function ensureRedis(envUrl: string | undefined): Promise<EnsuredRedis> {
  if (envUrl) return { url: envUrl, source: 'env', stop: async () => {} };
  if (await canConnect('127.0.0.1', 6379)) return { url: DEFAULT_REDIS_URL, source: 'local', stop: async () => {} };
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roberta-batch-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('error', (e) => resolve(e));
    child.once('spawn', () => resolve(undefined));
  });
  if (spawnError) {
    throw new RobertaBatchError('E_REDIS_MISSING', 'no Redis at REDIS_URL or 127.0.0.1:6379, and redis-server is not installed', {
      hint: 'install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL=redis://host:port',
      cause: spawnError,
    });
  }
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url, 10_000);
  logger().info({ redis: url, dir }, 'started a private redis-server for this run');
  return {
    url,
    source: 'private',
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
