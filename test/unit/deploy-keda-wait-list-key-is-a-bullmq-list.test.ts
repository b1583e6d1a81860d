/**
 * KEDA's redis trigger (deploy/k8s/base/scaledobject.yaml) reads LLEN of `<prefix>:<queue>:wait`.
 * This proves on a real Redis that BullMQ 6 keeps a waiting job in exactly that key, as a LIST,
 * and that prioritized jobs do not (they live in a sorted set, which the trigger cannot see:
 * docs/DEPLOY.md says so).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { expect, it, onTestFinished } from 'vitest';
import { redisOptionsFromUrl } from '../../src/shared/redis.js';
import { DEFAULT_PREFIX } from '../../src/shared/queues.js';
import { loadYamlDocs } from '../helpers/render-kustomize.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} took over ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

it('a job added with BullMQ sits in the LIST <prefix>:<queue>:wait that the ScaledObject names', async () => {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the global setup sets it)');
  const name = `test-${randomUUID()}`;
  const queue = new Queue(name, { connection: redisOptionsFromUrl(url) as ConnectionOptions, prefix: DEFAULT_PREFIX });
  queue.on('error', () => {});
  const redis = new Redis(redisOptionsFromUrl(url));
  onTestFinished(async () => {
    await within(queue.obliterate({ force: true }), 10_000, 'obliterate');
    await within(queue.close(), 5_000, 'queue.close');
    await within(redis.quit(), 5_000, 'redis.quit');
  });

  // The same template as the manifest, with this test's queue name in place of the configured one.
  const [so] = loadYamlDocs(path.join(root, 'deploy/k8s/base/scaledobject.yaml')) as unknown as Array<{ spec: { triggers: Array<{ type: string; metadata: Record<string, string> }> } }>;
  const [cm] = loadYamlDocs(path.join(root, 'deploy/k8s/base/configmap.yaml')) as unknown as Array<{ data: Record<string, string> }>;
  const listName = so.spec.triggers.find((t) => t.type === 'redis')!.metadata.listName;
  expect(listName).toBe(`${cm.data.RB_PREFIX}:${cm.data.RB_QUEUE}:wait`);
  const key = listName.replace(`:${cm.data.RB_QUEUE}:`, `:${name}:`);
  expect(key).toBe(`${DEFAULT_PREFIX}:${name}:wait`);

  await queue.add('doc', { id: 'd1', text: 'hello' }, { jobId: 'd1' });
  expect(await redis.type(key)).toBe('list');
  expect(await redis.llen(key)).toBe(1);
  expect(await redis.lrange(key, 0, -1)).toEqual(['d1']);

  // Prioritized jobs go to a sorted set: invisible to the trigger's LLEN.
  await queue.add('doc', { id: 'd2', text: 'hi' }, { jobId: 'd2', priority: 1 });
  expect(await redis.llen(key)).toBe(1);
  expect(await redis.type(`${DEFAULT_PREFIX}:${name}:prioritized`)).toBe('zset');
});
