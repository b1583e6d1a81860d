/**
 * What a REDIS_URL means: redis://, rediss:// with TLS, user/password ACL, and the multi-host
 * forms redis+cluster:// and redis+sentinel://, turned into ioredis options; and the same URL
 * without its password for logs and error messages. No connection is opened here.
 */
import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import { E } from './errors.js';

import { DEFAULT_REDIS_URL } from './flags.js';

export { DEFAULT_REDIS_URL };

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

/**
 * Called once by the CLI with the validated configuration (src/cli/redis-tls.ts); library
 * callers may call it too. A setting of the process rather than a parameter of every
 * connect(url): every connection of a process talks to the same Redis deployment.
 */
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
      throw E.CONFIG(`REDIS_TLS_CA "${settings.ca}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
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
export function baseOptions(): RedisOptions {
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
      throw E.CONFIG(`REDIS_URL ${redactRedisUrl(url)}: "${item}" is not host:port`, { hint: URL_FORMS });
    }
    nodes.push({ host: m[1], port });
  }
  if (nodes.length === 0) throw E.CONFIG(`REDIS_URL ${redactRedisUrl(url)} lists no host`, { hint: URL_FORMS });
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
      throw E.CONFIG(`REDIS_URL ${redactRedisUrl(url)}: Redis Cluster has no databases but db 0, drop "${pathPart}"`, { hint: URL_FORMS });
    }
    // Cluster nodes are reached by the addresses they announce, not by one host name.
    if (tlsOn) opts.tls = tlsOptions(undefined);
    return { kind: 'cluster', nodes: parseHosts(hosts, 6379, url), options: opts };
  }
  const name = decodeURIComponent(pathPart.replace(/^\/+/, '').split('/')[0] ?? '');
  if (!name) {
    throw E.CONFIG(`REDIS_URL ${redactRedisUrl(url)} names no Sentinel master`, {
      hint: 'add the master name as the path: redis+sentinel://host:26379,host:26379/mymaster',
    });
  }
  const db = Number(params.get('db') ?? 0);
  if (!Number.isInteger(db) || db < 0) throw E.CONFIG(`REDIS_URL ${redactRedisUrl(url)}: db "${params.get('db')}" is not a number`, { hint: URL_FORMS });
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
    throw E.CONFIG(`REDIS_URL "${url}" is not a URL`, { hint: URL_FORMS });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw E.CONFIG(`REDIS_URL scheme "${u.protocol}" is not supported`, { hint: URL_FORMS });
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
