/**
 * Start-up checks of a Redis: it answers (with backoff while it comes up), the credentials are
 * accepted, and it will not evict keys (BullMQ loses jobs when it does).
 */
import { REDIS_WAIT_MS } from './flags.js';
import { Cluster, type Redis } from 'ioredis';
import { E } from './errors.js';
import { logger } from './logger.js';
import { connect } from './redis.js';
import { redactRedisUrl } from './redis-url.js';
import { sleep } from './util.js';

/** Redis answered but refused the credentials: waiting longer cannot fix that. */
const AUTH_FAILURE = /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid (username-)?password/i;

/**
 * Waits until Redis answers PING, with backoff (ms): 250, 500, 1000, 2000, 4000, 5000...
 * Gives up after `timeoutMs` with E_REDIS_UNREACHABLE. One warning line per attempt,
 * no stack traces: an unreachable Redis is an operational state, not a crash.
 * Refused credentials (WRONGPASS, NOAUTH) fail at once with E_REDIS_AUTH.
 */
export async function waitForRedis(url: string, timeoutMs: number = REDIS_WAIT_MS.default): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const log = logger();
  for (let attempt = 1; ; attempt++) {
    const client = connect(url, { retryStrategy: () => null, sentinelRetryStrategy: () => null, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    // ioredis rejects connect() with a bare "Connection is closed."; the reason (ECONNREFUSED,
    // WRONGPASS, a TLS error) arrives only on the 'error' event.
    let lastError: Error | undefined;
    client.on('error', (e: Error) => { lastError = e; });
    try {
      await client.connect();
      await client.ping();
      if (client instanceof Cluster) {
        // Nodes answer before every slot has a master (while `redis-cli --cluster create` or a
        // failover runs); BullMQ commands would fail with CLUSTERDOWN until then.
        const info = String(await client.cluster('INFO'));
        const state = /cluster_state:(\w+)/.exec(info)?.[1];
        if (state !== 'ok') throw new Error(`cluster_state is ${state ?? 'unknown'}, not ok`);
      }
      return;
    } catch (err) {
      const reason = lastError ?? (err as Error);
      if (AUTH_FAILURE.test(reason.message)) {
        throw E.REDIS_AUTH(`Redis at ${redactRedisUrl(url)} refused the credentials: ${reason.message}`, {
          hint: 'put the right user and password in REDIS_URL: redis://user:password@host:port (ACL user) or redis://:password@host:port (requirepass)',
          cause: reason,
        });
      }
      const delay = Math.min(250 * 2 ** (attempt - 1), 5_000);
      if (Date.now() + delay > deadline) {
        throw E.REDIS_UNREACHABLE(`Redis at ${redactRedisUrl(url)} did not answer for ${timeoutMs < 10_000 ? (timeoutMs / 1000).toFixed(1) : Math.round(timeoutMs / 1000)} s`, {
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
    // On a Cluster every master holds a share of the slots: each one must keep its keys.
    const servers = client instanceof Cluster ? client.nodes('master') : [client];
    for (const server of servers) {
      const policy = await maxmemoryPolicy(server);
      if (!policy || policy === 'noeviction') continue;
      const where = client instanceof Cluster ? ` on ${server.options.host}:${server.options.port}` : '';
      const msg = `Redis maxmemory-policy is "${policy}"${where}: under memory pressure Redis would delete queued jobs`;
      if (!allowEviction) {
        throw E.REDIS_CONFIG(msg, {
          hint: 'run `CONFIG SET maxmemory-policy noeviction` on Redis, or pass --allow-eviction to accept the risk',
        });
      }
      logger().warn({ policy }, `${msg} (allowed by --allow-eviction)`);
    }
  } finally {
    client.disconnect();
  }
}
