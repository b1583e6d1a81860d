/**
 * A worker process that fails before it is ready (here: the model file does
 * not exist) is restarted with backoff, but only --max-start-failures times in a row: then
 * the supervisor stops the others and exits 1 with E_WORKER_START_LOOP, instead of crash-
 * looping forever behind a live /healthz.
 */
import { expect, it } from 'vitest';
import { uniqueQueueName } from '../helpers/queues.js';
import { supervisorPerTest } from '../helpers/supervisor.js';

const supervisors = supervisorPerTest();

it('exits 1 with E_WORKER_START_LOOP after 3 failed starts in a row', async () => {
  const queue = uniqueQueueName('sup-giveup');
  const sup = await supervisors.start(queue, ['--processes', '2', '--threads-per-process', '1', '--restart-backoff-ms', '50', '--max-start-failures', '3'], {}, '/nonexistent/model.onnx');
  const code = await sup.proc.exited;
  const out = sup.proc.output();
  expect(code).toBe(1);
  expect(out).toMatch(/E_WORKER_START_LOOP: worker process \d failed 3 times in a row before it was ready/);
  expect(out).toContain('E_MODEL_NOT_FOUND');
  expect(out.match(/worker process exited: restarting it/g)?.length).toBeGreaterThanOrEqual(2);
}, 90_000);
