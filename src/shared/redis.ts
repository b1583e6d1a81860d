/**
 * Redis connections: URL parsing (redis://, rediss:// with TLS, user/password ACL, and the
 * multi-host forms redis+cluster:// and redis+sentinel://), start-up checks (reachable, no key
 * eviction) and a private redis-server for one-command runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedisConnection, createIORedisClient, type ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { canConnect, freePort } from './ports.js';
import { RobertaBatchError } from './errors.js';
import { logger } from './logger.js';

import { DEFAULT_REDIS_URL, REDIS_WAIT_MS } from './flags.js';

export { DEFAULT_REDIS_URL };

/** A single server or a Redis Cluster (ioredis `Cluster`); Sentinel is a `Redis` in sentinel mode. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/** Where a REDIS_URL points. */
export type RedisTopology =
  | { kind: 'single'; options: RedisOptions }
  | { kind: 'cluster'; nodes: RedisNode[]; options: RedisOptions }
  | { kind: 'sentinel'; options: RedisOptions };

const URL_FORMS =
  'use redis://[user:password@]host:port[/db] (rediss:// for TLS), redis+cluster://host:port,host:port for Redis Cluster, or redis+sentinel://host:port,host:port/mastername for Sentinel';

/** `redis+cluster://` and `redis+sentinel://` (and their rediss+ TLS forms) list several hosts, which WHATWG URL cannot parse. */
const MULTI_HOST_URL = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i;

export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//i.test(url);
}

/**
 * Redis Cluster runs a Lua script only on keys of one hash slot, and BullMQ's scripts touch
 * many keys of a queue: the key prefix must hold a hash tag (`{rb}`) so that every key of
 * every queue lands in the slot of that tag. Redis hashes the text between the first `{` and
 * the first `}` after it, and only when that text is not empty.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** Where a URL points, without its password, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  if (MULTI_HOST_URL.test(url)) {
    return url.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@').replace(/(sentinelPassword=)[^&#]*/i, '$1***');
  }
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid REDIS_URL>';
  }
}

/** TLS settings of rediss:// connections, from --redis-tls-ca / REDIS_TLS_CA and --redis-tls-insecure / REDIS_TLS_INSECURE. */
export interface RedisTlsSettings {
  /** PEM file of a private CA: verifies the server without turning verification off. */
  ca?: string;
  /** Self-signed test servers only. Never the default. */
  insecure?: boolean;
}

let tlsSettings: RedisTlsSettings = {};

/** Called once by the CLI with the validated configuration; library callers may call it too. */
export function configureRedisTls(settings: RedisTlsSettings): void {
  tlsSettings = { ...settings };
}

export function tlsOptions(servername: string | undefined, settings: RedisTlsSettings = tlsSettings): NonNullable<RedisOptions['tls']> {
  const tls: NonNullable<RedisOptions['tls']> = { rejectUnauthorized: settings.insecure !== true };
  if (servername) tls.servername = servername;
  if (settings.ca) {
    try {
      tls.ca = readFileSync(settings.ca);
    } catch (err) {
      throw new RobertaBatchError('E_CONFIG', `REDIS_TLS_CA "${settings.ca}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'set REDIS_TLS_CA (or --redis-tls-ca) to the PEM file of the CA that signed the Redis server certificate',
        cause: err,
      });
    }
  }
  return tls;
}

/**
 * Options every connection shares. `maxRetriesPerRequest: null` is what BullMQ requires for
 * blocking connections: commands wait for a reconnect instead of failing after 20 tries,
 * so a Redis restart pauses the pipeline rather than failing jobs.
 */
function baseOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect backoff (ms): 100, 200, 400 ... capped at 5000, forever. Logged by the caller.
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 6), 5_000),
  };
}

function parseHosts(list: string, defaultPort: number, url: string): RedisNode[] {
  const nodes: RedisNode[] = [];
  for (const item of list.split(',').map((h) => h.trim()).filter(Boolean)) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(item) ?? /^([^:]+)(?::(\d+))?$/.exec(item);
    const port = m?.[2] ? Number(m[2]) : defaultPort;
    if (!m || port < 1 || port > 65535) {
      throw new RobertaBatchError('E_CONFIG', `REDIS_URL ${redactRedisUrl(url)}: "${item}" is not host:port`, { hint: URL_FORMS });
    }
    nodes.push({ host: m[1], port });
  }
  if (nodes.length === 0) throw new RobertaBatchError('E_CONFIG', `REDIS_URL ${redactRedisUrl(url)} lists no host`, { hint: URL_FORMS });
  return nodes;
}

function parseMultiHost(url: string, m: RegExpExecArray): RedisTopology {
  const [, scheme, kind, userinfo, hosts, pathPart, query] = m;
  const tlsOn = scheme.toLowerCase() === 'rediss';
  const opts = baseOptions();
  if (userinfo) {
    const [user, ...pass] = userinfo.split(':');
    if (user) opts.username = decodeURIComponent(user);
    if (pass.length) opts.password = decodeURIComponent(pass.join(':'));
  }
  const params = new URLSearchParams(query ?? '');
  if (kind.toLowerCase() === 'cluster') {
    if (pathPart && pathPart !== '/') {
      throw new RobertaBatchError('E_CONFIG', `REDIS_URL ${redactRedisUrl(url)}: Redis Cluster has no databases but db 0, drop "${pathPart}"`, { hint: URL_FORMS });
    }
    // Cluster nodes are reached by the addresses they announce, not by one host name.
    if (tlsOn) opts.tls = tlsOptions(undefined);
    return { kind: 'cluster', nodes: parseHosts(hosts, 6379, url), options: opts };
  }
  const name = decodeURIComponent(pathPart.replace(/^\/+/, '').split('/')[0] ?? '');
  if (!name) {
    throw new RobertaBatchError('E_CONFIG', `REDIS_URL ${redactRedisUrl(url)} names no Sentinel master`, {
      hint: 'add the master name as the path: redis+sentinel://host:26379,host:26379/mymaster',
    });
  }
  const db = Number(params.get('db') ?? 0);
  if (!Number.isInteger(db) || db < 0) throw new RobertaBatchError('E_CONFIG', `REDIS_URL ${redactRedisUrl(url)}: db "${params.get('db')}" is not a number`, { hint: URL_FORMS });
  opts.sentinels = parseHosts(hosts, 26379, url);
  opts.name = name;
  opts.db = db;
  if (params.get('sentinelUsername')) opts.sentinelUsername = params.get('sentinelUsername')!;
  if (params.get('sentinelPassword')) opts.sentinelPassword = params.get('sentinelPassword')!;
  if (tlsOn) {
    opts.tls = tlsOptions(undefined);
    opts.sentinelTLS = tlsOptions(undefined);
    opts.enableTLSForSentinelMode = true;
  }
  return { kind: 'sentinel', options: opts };
}

/** Parses REDIS_URL into its topology; every malformed URL is an E_CONFIG naming the accepted forms. */
export function parseRedisUrl(url: string): RedisTopology {
  const multi = MULTI_HOST_URL.exec(url);
  if (multi) return parseMultiHost(url, multi);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RobertaBatchError('E_CONFIG', `REDIS_URL "${url}" is not a URL`, { hint: URL_FORMS });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RobertaBatchError('E_CONFIG', `REDIS_URL scheme "${u.protocol}" is not supported`, { hint: URL_FORMS });
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const opts: RedisOptions = {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: Number.isFinite(db) ? db : 0,
    ...baseOptions(),
  };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') opts.tls = tlsOptions(u.hostname);
  return { kind: 'single', options: opts };
}

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
        throw new RobertaBatchError('E_REDIS_AUTH', `Redis at ${redactRedisUrl(url)} refused the credentials: ${reason.message}`, {
          hint: 'put the right user and password in REDIS_URL: redis://user:password@host:port (ACL user) or redis://:password@host:port (requirepass)',
          cause: reason,
        });
      }
      const delay = Math.min(250 * 2 ** (attempt - 1), 5_000);
      if (Date.now() + delay > deadline) {
        throw new RobertaBatchError('E_REDIS_UNREACHABLE', `Redis at ${redactRedisUrl(url)} did not answer for ${timeoutMs < 10_000 ? (timeoutMs / 1000).toFixed(1) : Math.round(timeoutMs / 1000)} s`, {
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

export interface EnsuredRedis {
  url: string;
  source: 'env' | 'local' | 'private';
  stop(): Promise<void>;
}

/**
 * For `roberta-batch run`: REDIS_URL if set, else a Redis on 127.0.0.1:6379, else a private
 * redis-server started on a free port in a temp folder (stopped by `stop()`), else a clear error.
 */
export async function ensureRedis(envUrl: string | undefined, opts: { private?: boolean } = {}): Promise<EnsuredRedis> {
  // private: a server of our own even when one runs on 6379 (a benchmark reading INFO cpu).
  if (envUrl && !opts.private) return { url: envUrl, source: 'env', stop: async () => {} };
  if (!opts.private && (await canConnect(6379))) return { url: DEFAULT_REDIS_URL, source: 'local', stop: async () => {} };
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roberta-batch-redis-'));
  // Its own process group: a Ctrl-C in the terminal must not kill Redis under the workers that
  // are finishing their jobs; `stop()` ends it after them.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
    detached: true,
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
  try {
    await waitForRedis(url, 10_000);
  } catch (err) {
    // Detached: it would outlive us.
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  logger().info({ redis: url, dir }, 'started a private redis-server for this run');
  return {
    url,
    source: 'private',
    // Its temp folder goes with it: nothing the run created for itself stays behind.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}
