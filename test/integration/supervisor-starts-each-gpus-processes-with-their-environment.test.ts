/**
 * `worker --gpus 3,5` starts one worker process per GPU, each seeing only its
 * GPU (CUDA_VISIBLE_DEVICES) as device 0. This machine has no GPU, so the test asks for
 * --device auto: each process tries CUDA on auto:0, falls back to CPU, and is ready; what it
 * was given is in its start line and in the supervisor's /readyz. `--processes 2
 * --threads-per-process 1` gets no CUDA_VISIBLE_DEVICES and one onnxruntime thread each; --ui
 * is served by the supervisor, not by each process. `--processes-per-gpu 2` puts two processes
 * on one GPU.
 */
import { expect, it } from 'vitest';
import { stop } from '../helpers/cli.js';
import { uniqueQueueName } from '../helpers/queues.js';
import { supervisorPerTest } from '../helpers/supervisor.js';

const supervisors = supervisorPerTest();

interface StartLine { pid: number; workerProcess: number; cudaVisibleDevices: string | null; device: string; intraOpThreads: number }

function startLines(output: string): StartLine[] {
  return output.split('\n').filter((l) => l.includes('supervised worker process starting')).map((l) => JSON.parse(l) as StartLine);
}

it('gives each GPU its own process with CUDA_VISIBLE_DEVICES and device auto:0 (CPU fallback here)', async () => {
  const queue = uniqueQueueName('sup-gpus');
  const sup = await supervisors.start(queue, ['--gpus', '3,5', '--device', 'auto', '--threads-per-process', '1']);
  const ready = await sup.waitAllReady();
  const lines = startLines(sup.proc.output()).sort((a, b) => a.workerProcess - b.workerProcess);
  expect(lines.map(({ workerProcess, cudaVisibleDevices, device, intraOpThreads }) => ({ workerProcess, cudaVisibleDevices, device, intraOpThreads }))).toEqual([
    { workerProcess: 0, cudaVisibleDevices: '3', device: 'auto:0', intraOpThreads: 1 },
    { workerProcess: 1, cudaVisibleDevices: '5', device: 'auto:0', intraOpThreads: 1 },
  ]);
  expect(ready.processes.map((p) => ({ gpu: p.gpu, state: p.state, device: p.device }))).toEqual([
    { gpu: 3, state: 'ready', device: 'cpu' },
    { gpu: 5, state: 'ready', device: 'cpu' },
  ]);
  expect(new Set(ready.processes.map((p) => p.pid)).size).toBe(2);
  expect(sup.proc.output()).toMatch(/CUDA unavailable, --device auto fell back to CPU/);
  expect(await stop(sup.proc, 15_000)).toBe(0);
}, 90_000);

it('runs --processes-per-gpu 2 processes on the one GPU, each seeing it as device 0, listed and scraped apart', async () => {
  const queue = uniqueQueueName('sup-per-gpu');
  const sup = await supervisors.start(queue, ['--gpus', '3', '--processes-per-gpu', '2', '--device', 'auto', '--threads-per-process', '1']);
  const ready = await sup.waitAllReady();
  const lines = startLines(sup.proc.output()).sort((a, b) => a.workerProcess - b.workerProcess);
  expect(lines.map(({ workerProcess, cudaVisibleDevices, device }) => ({ workerProcess, cudaVisibleDevices, device }))).toEqual([
    { workerProcess: 0, cudaVisibleDevices: '3', device: 'auto:0' },
    { workerProcess: 1, cudaVisibleDevices: '3', device: 'auto:0' },
  ]);
  expect(ready.processes.map((p) => ({ workerProcess: p.workerProcess, gpu: p.gpu, state: p.state }))).toEqual([
    { workerProcess: 0, gpu: 3, state: 'ready' },
    { workerProcess: 1, gpu: 3, state: 'ready' },
  ]);
  expect(new Set(ready.processes.map((p) => p.pid)).size).toBe(2);
  const metrics = await sup.metrics();
  for (const i of ['0', '1']) expect(metrics).toMatch(new RegExp(`^roberta_batch_supervisor_process_up\\{worker_process="${i}"\\} 1$`, 'm'));
  expect(await stop(sup.proc, 15_000)).toBe(0);
}, 90_000);

it('runs --processes 2 on CPU with the threads it was given and no CUDA_VISIBLE_DEVICES', async () => {
  const queue = uniqueQueueName('sup-cpu');
  const sup = await supervisors.start(queue, ['--processes', '2', '--threads-per-process', '1', '--ui']);
  const ready = await sup.waitAllReady();
  // --ui is the supervisor's: its server has /ui, its processes got no --ui
  expect((await fetch(`${sup.base}/ui`)).status).toBe(200);
  expect(sup.proc.output()).not.toMatch(/queue UI listening/);
  const lines = startLines(sup.proc.output());
  expect(lines).toHaveLength(2);
  expect(lines.every((l) => l.cudaVisibleDevices === null && l.device === 'cpu' && l.intraOpThreads === 1)).toBe(true);
  expect(ready.processes.map((p) => p.gpu)).toEqual([undefined, undefined]);
}, 90_000);
