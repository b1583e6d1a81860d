/**
 * Runs once before the suite: builds dist/ (spawned CLIs and worker threads run compiled
 * JavaScript), finds a Redis (REDIS_URL, else 127.0.0.1:6379, else a private redis-server)
 * (tiny test models are generated lazily by test/helpers/models.ts).
 */
import { execFileSync } from 'node:child_process';
import { canConnect } from '../../src/shared/ports.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrivateRedis, type PrivateRedis } from './redis-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let privateRedis: PrivateRedis | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  // Type errors are reported by `npm run typecheck`; tsc still emits, so the suite can run.
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root, stdio: 'inherit',
    });
  } catch {
    console.warn('global-setup: tsc reported type errors (see above); dist/ was emitted anyway');
  }
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
