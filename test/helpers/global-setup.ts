/**
 * Runs once before every project: finds a Redis (REDIS_URL, else 127.0.0.1:6379, else a
 * private redis-server). dist/ is built by build-setup.ts, only for the projects that spawn it;
 * tiny test models are generated lazily by test/helpers/models.ts.
 */
import { canConnect } from '../../src/shared/ports.js';
import { startPrivateRedis, type PrivateRedis } from './redis-server.js';

let privateRedis: PrivateRedis | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  if (!process.env.REDIS_URL) {
    if (await canConnect(6379, '127.0.0.1')) {
      process.env.REDIS_URL = 'redis://127.0.0.1:6379';
    } else {
      privateRedis = await startPrivateRedis();
      process.env.REDIS_URL = privateRedis.url;
    }
  }
  return async () => { await privateRedis?.stop(); };
}
