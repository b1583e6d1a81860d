/**
 * The metrics server (queue names, rates) listens on 127.0.0.1 unless
 * --metrics-host says otherwise. Checked on the listening socket itself in /proc/net/tcp, so it
 * holds whatever interfaces this machine has. The worker runs in the test process: the
 * socket is the worker's, and its default comes from the same flag table the CLI parses.
 */
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { testModel } from '../helpers/models.js';
import { removeQueues, uniqueQueueName } from '../helpers/queues.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';

const queue = uniqueQueueName('bind');
let worker: RobertaWorker | undefined;
afterEach(async () => {
  if (worker) await closeWorker(worker);
  worker = undefined;
  await removeQueues(queue);
});

/** Local addresses (hex, as the kernel writes them) of the IPv4 sockets listening on `port`. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[1].endsWith(`:${hexPort}`) && f[3] === '0A')
    .map((f) => f[1].split(':')[0]);
}

async function metricsPort(flags: Record<string, unknown>): Promise<number> {
  const model = await testModel('sequence-classification', 'hf');
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, ...flags });
  await worker.start();
  return worker.metricsPort!;
}

it('listens on 127.0.0.1 only by default', async () => {
  const port = await metricsPort({});
  expect(listeningAddresses(port)).toEqual(['0100007F']); // 127.0.0.1, little-endian hex
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
}, 60_000);

it('listens on every interface only when --metrics-host 0.0.0.0 asks for it', async () => {
  const port = await metricsPort({ metricsHost: '0.0.0.0' });
  expect(listeningAddresses(port)).toEqual(['00000000']);
}, 60_000);
