/**
 * Tests that must own their Redis (fault tests kill, restart or starve it) start the one
 * RedisServer of src/pipeline/redis-server.ts. Only the pid started there is ever signalled.
 */
import { RedisServer, type RedisServerOptions } from '../../src/pipeline/redis-server.js';
import { waitForPort as waitForPortOrFalse } from '../../src/shared/ports.js';

export { freePort } from '../../src/shared/ports.js';
export { RedisServer } from '../../src/pipeline/redis-server.js';
export type PrivateRedis = RedisServer;

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  if (!(await waitForPortOrFalse(port, timeoutMs))) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export function startPrivateRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  return RedisServer.start(opts);
}
