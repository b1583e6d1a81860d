/**
 * The supervisor's one /metrics carries each worker process's metrics with a
 * worker_process label; documents_total summed over the processes is every document scored.
 */
import { expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { redisUrl, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { supervisorPerTest } from '../helpers/supervisor.js';

const supervisors = supervisorPerTest();

function documentsByProcess(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(/^roberta_batch_documents_total\{worker_process="(\d+)",status="ok",task="sentiment"\} (\d+)$/gm)) out.set(m[1], Number(m[2]));
  return out;
}

it('exposes per-process series whose sum is every document', async () => {
  const queue = uniqueQueueName('sup-metrics');
  // Small batches and concurrency so that both processes take jobs.
  const sup = await supervisors.start(queue, ['--processes', '2', '--threads-per-process', '1', '--max-batch-size', '4', '--concurrency', '4']);
  await sup.waitAllReady();
  await enqueueDocuments(syntheticDocs(300, 9), { redisUrl: redisUrl(), queue });
  await waitFor(async () => [...documentsByProcess(await sup.metrics()).values()].reduce((a, b) => a + b, 0) === 300, 60_000, 250);

  const metrics = await sup.metrics();
  const byProcess = documentsByProcess(metrics);
  expect([...byProcess.keys()].sort()).toEqual(['0', '1']);
  expect([...byProcess.values()].every((n) => n > 0)).toBe(true);
  expect(metrics).toMatch(/^roberta_batch_ready\{worker_process="0"\} 1$/m);
  expect(metrics).toMatch(/^roberta_batch_ready\{worker_process="1"\} 1$/m);
  expect(metrics).toMatch(/^roberta_batch_supervisor_processes 2$/m);
  expect(metrics).toMatch(/^roberta_batch_supervisor_process_up\{worker_process="1"\} 1$/m);
  // one declaration per family, as Prometheus requires
  const types = metrics.split('\n').filter((l) => l.startsWith('# TYPE '));
  expect(new Set(types).size).toBe(types.length);
  expect(types).toContain('# TYPE roberta_batch_documents_total counter');
}, 120_000);
