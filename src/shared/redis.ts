/**
 * Redis clients: BullMQ connection options for a REDIS_URL (a Cluster becomes an ioredis
 * Cluster through BullMQ's client factory) and clients of our own for everything else.
 */
import { RedisConnection, createIORedisClient, type ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { E } from './errors.js';
import type { Logger } from './logger.js';
import { baseOptions, parseRedisUrl, type RedisNode } from './redis-url.js';
import { sleep } from './util.js';

/** A single server or a Redis Cluster (ioredis `Cluster`); Sentinel is a `Redis` in sentinel mode. */
export type RedisClient = Redis | Cluster;

/**
 * Marks options that describe a Redis Cluster: BullMQ copies connection options (with their
 * symbol keys) into every connection it opens, and the client factory below turns marked ones
 * into an ioredis Cluster. BullMQ then owns and closes each of those clients itself, as it does
 * for plain options; a shared Cluster instance passed as `connection` would be left open.
 */
const CLUSTER_NODES = Symbol.for('roberta-batch.redis-cluster-nodes');
type MarkedOptions = RedisOptions & { [CLUSTER_NODES]?: RedisNode[] };

function newCluster(nodes: RedisNode[], opts: MarkedOptions): Cluster {
  const { host: _h, port: _p, url: _u, skipVersionCheck: _s, retryStrategy, lazyConnect, enableOfflineQueue, ...nodeOptions } = opts as MarkedOptions & { url?: string; skipVersionCheck?: boolean };
  delete (nodeOptions as MarkedOptions)[CLUSTER_NODES];
  const clusterOptions: ClusterOptions = {
    redisOptions: nodeOptions,
    lazyConnect,
    enableReadyCheck: true,
    // Reconnects of the whole cluster use the same backoff as a single server (ms): 100 .. 5000.
    clusterRetryStrategy: retryStrategy ?? baseOptions().retryStrategy,
    // A failover moves slots: retry MOVED/ASK up to 16 times, 100 ms apart (ioredis defaults).
    maxRedirections: 16,
    retryDelayOnFailover: 100,
  };
  if (enableOfflineQueue !== undefined) clusterOptions.enableOfflineQueue = enableOfflineQueue;
  return new Cluster(nodes, clusterOptions);
}

let clusterFactoryInstalled = false;

/**
 * BullMQ's documented hook for creating clients (RedisConnection.clientFactory). Options
 * without the cluster mark get exactly what BullMQ creates by default: an ioredis Redis.
 */
function installClusterFactory(): void {
  if (clusterFactoryInstalled) return;
  clusterFactoryInstalled = true;
  RedisConnection.clientFactory = (opts) => {
    const nodes = (opts as MarkedOptions)[CLUSTER_NODES];
    if (nodes) return createIORedisClient(newCluster(nodes, opts as MarkedOptions));
    const { url, ...rest } = opts as RedisOptions & { url?: string };
    return createIORedisClient(url ? new Redis(url, rest) : new Redis(rest));
  };
}

/**
 * ioredis options for a URL: a single server, a Sentinel-managed master (ioredis `sentinels`
 * + `name`), or the per-node options of a Redis Cluster marked with its seed nodes.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const t = parseRedisUrl(url);
  if (t.kind !== 'cluster') return t.options;
  installClusterFactory();
  return { ...t.options, [CLUSTER_NODES]: t.nodes } as MarkedOptions;
}

/**
 * The same options typed for BullMQ, which declares its own structural RedisOptions type
 * (ioredis' option types do not satisfy its index signature, though the values are identical).
 */
export function bullConnection(url: string): ConnectionOptions {
  return redisOptionsFromUrl(url) as ConnectionOptions;
}

/** A client of our own (not BullMQ's), not yet connected: call `connect()`. */
export function connect(url: string, extra: Partial<RedisOptions> = {}): RedisClient {
  const t = parseRedisUrl(url);
  if (t.kind === 'cluster') return newCluster(t.nodes, { ...t.options, lazyConnect: true, ...extra });
  return new Redis({ ...t.options, lazyConnect: true, ...extra });
}

/**
 * ioredis resends a single command that was in flight when the connection dropped, once it
 * reconnects, but rejects every command of a pipeline or MULTI in flight ("Command aborted due
 * to connection close"): a Redis restart in the middle of an addBulk would otherwise end the
 * producer. Only for steps that are safe to run again (job ids make addBulk idempotent; reads).
 */
export function isConnectionDrop(err: unknown): boolean {
  return /^(Command aborted due to connection close|Connection is closed\.?)$/.test((err as Error | undefined)?.message ?? '');
}

/**
 * Runs `step` again after a dropped connection, with the backoff of waitForRedis (ms): 250,
 * 500, 1000, 2000, 4000, then 5000, for at most `waitMs` (the command's --redis-wait-ms),
 * then E_REDIS_UNREACHABLE.
 */
export async function retryOnConnectionDrop<T>(what: string, step: () => Promise<T>, opts: { log: Logger; waitMs: number; signal?: AbortSignal }): Promise<T> {
  const deadline = performance.now() + opts.waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const delay = Math.min(250 * 2 ** (attempt - 1), 5_000);
      if (!isConnectionDrop(err) || opts.signal?.aborted) throw err;
      if (performance.now() + delay > deadline) {
        throw E.REDIS_UNREACHABLE(`the connection to Redis dropped while ${what} and did not come back within ${Math.round(opts.waitMs / 1000)} s`, { cause: err });
      }
      opts.log.warn({ attempt, retryInMs: delay, reason: (err as Error).message }, `connection to Redis dropped while ${what}: retrying`);
      await sleep(delay, opts.signal);
    }
  }
}
