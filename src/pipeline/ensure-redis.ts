/**
 * Where `run` (and the benchmark) find their Redis: REDIS_URL if set, else a Redis on
 * 127.0.0.1:6379, else a private redis-server started for the run, else a clear error.
 */
import { E, RobertaBatchError } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { canConnect } from '../shared/ports.js';
import { DEFAULT_REDIS_URL } from '../shared/redis-url.js';
import { RedisServer } from './redis-server.js';

export interface EnsuredRedis {
  url: string;
  source: 'env' | 'local' | 'private';
  stop(): Promise<void>;
}

export async function ensureRedis(envUrl: string | undefined, opts: { private?: boolean } = {}): Promise<EnsuredRedis> {
  // private: a server of our own even when one runs on 6379 (a benchmark reading INFO cpu).
  if (envUrl && !opts.private) return { url: envUrl, source: 'env', stop: async () => {} };
  if (!opts.private && (await canConnect(6379))) return { url: DEFAULT_REDIS_URL, source: 'local', stop: async () => {} };
  let server: RedisServer;
  try {
    // Its own process group: a Ctrl-C in the terminal must not kill Redis under the workers that
    // are finishing their jobs; `stop()` ends it after them.
    server = await RedisServer.start({ detached: true, startTimeoutMs: 10_000, dirPrefix: 'roberta-batch-redis-' });
  } catch (err) {
    if (err instanceof RobertaBatchError && err.code === 'E_REDIS_MISSING') {
      throw E.REDIS_MISSING('no Redis at REDIS_URL or 127.0.0.1:6379, and redis-server is not installed', {
        hint: err.hint,
        cause: err.cause,
      });
    }
    throw err;
  }
  logger().info({ redis: server.url, dir: server.dir }, 'started a private redis-server for this run');
  // Its temp folder goes with it: nothing the run created for itself stays behind.
  return { url: server.url, source: 'private', stop: () => server.stop() };
}
