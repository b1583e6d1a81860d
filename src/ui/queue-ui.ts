/**
 * The optional queue UI (`--ui`): bull-board at /ui on the metrics server, showing the
 * documents queue and its results queue. Read-only unless `--ui-write`: bull-board then
 * refuses retries, removals, cleans and pauses with 405 (its per-queue readOnlyMode).
 * The pages show job data, i.e. document text: the metrics server binds 127.0.0.1 unless
 * --metrics-host says otherwise, and this module never logs what it serves.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import type { RouteHandler } from '../shared/http-server.js';
import { queueOptions, resultsQueueName } from '../shared/queues.js';
import { bullConnection } from '../shared/redis.js';

export const UI_PATH = '/ui';

export interface QueueUiOptions {
  redisUrl: string;
  prefix: string;
  queue: string;
  resultsQueue?: string;
  /** Allow retries, removals, cleans and pauses from the UI (default: read-only). */
  write: boolean;
}

export interface QueueUi {
  readonly handler: RouteHandler;
  close(): Promise<void>;
}

export function createQueueUi(opts: QueueUiOptions): QueueUi {
  const connection = bullConnection(opts.redisUrl);
  const queues = [opts.queue, resultsQueueName(opts.queue, opts.resultsQueue)].map((name) => new Queue(name, { connection, ...queueOptions(opts.prefix) }));
  // A Redis hiccup must not crash the process that serves /metrics; BullMQ reconnects.
  for (const q of queues) q.on('error', () => {});
  const adapter = new HonoAdapter(serveStatic).setBasePath(UI_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: !opts.write })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: `roberta-batch: ${opts.queue}` } },
  });
  // Not strict: the page sets <base href="/ui/">, so browsers come back to /ui/ as well as /ui.
  const app = new Hono({ strict: false }).route(UI_PATH, adapter.registerPlugin());
  const listener = getRequestListener(app.fetch);
  let closing: Promise<void> | undefined;
  return {
    handler: (req, res) => listener(req, res),
    close: () => (closing ??= Promise.all(queues.map((q) => q.close().catch(() => {}))).then(() => undefined)),
  };
}
