/**
 * Each supervised process is the same CLI with the user's flags, minus the
 * supervisor's, plus its own: CUDA_VISIBLE_DEVICES=<its GPU> and --device cuda:0 (auto:0 with
 * --device auto), --intra-op-threads, a free metrics port on 127.0.0.1, a worker id per process,
 * RB_SUPERVISED=1, and none of the supervisor's RB_* variables (no recursion); with
 * --processes-per-gpu n, n of them on each GPU.
 */
import os from 'node:os';
import { expect, it } from 'vitest';
import { parseConfig, scaleOutSchema, workerSchema } from '../../src/shared/config.js';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { childSpecs } from '../../src/supervisor/child-command.js';

const given = { model: '/m/model.onnx', queue: 'q', maxBatchSize: '64', normalize: true, metricsPort: '9464', device: 'auto', workerId: 'pod-a' };

it('gives every GPU its own process, device 0 inside it, and strips the supervisor settings', () => {
  const env = { PATH: '/bin', RB_GPUS: '0,1', RB_PROCESSES: '', RB_UI: 'true', REDIS_URL: 'redis://r:6379' };
  const config = parseConfig(workerSchema, given, {});
  const specs = childSpecs(given, config, parseConfig(scaleOutSchema, { gpus: '2,3', threadsPerProcess: '4' }, {}), env);
  expect(specs.map((s) => s.gpu)).toEqual([2, 3]);
  for (const [i, s] of specs.entries()) {
    expect(s.env).toMatchObject({ CUDA_VISIBLE_DEVICES: String(s.gpu), RB_SUPERVISED: '1', RB_WORKER_PROCESS: String(i), REDIS_URL: 'redis://r:6379' });
    expect(s.env.RB_GPUS).toBeUndefined();
    expect(s.env.RB_UI).toBeUndefined();
    expect(s.args.slice(0, 1)).toEqual(['worker']);
    const flag = (name: string) => s.args[s.args.indexOf(name) + 1];
    expect(flag('--device')).toBe('auto:0');
    expect(flag('--intra-op-threads')).toBe('4');
    expect(flag('--metrics-port')).toBe('0');
    expect(flag('--metrics-host')).toBe('127.0.0.1');
    expect(flag('--worker-id')).toBe(`pod-a-${i}`);
    expect(flag('--max-batch-size')).toBe('64');
    expect(s.args).toContain('--normalize');
    expect(s.args.filter((a) => a === '--device' || a === '--metrics-port')).toHaveLength(2);
  }
  const cuda = childSpecs({ ...given, device: undefined }, parseConfig(workerSchema, { ...given, device: undefined }, {}), parseConfig(scaleOutSchema, { gpus: '0' }, {}), {});
  expect(cuda[0].args[cuda[0].args.indexOf('--device') + 1]).toBe('cuda:0');
});

it('runs --processes-per-gpu n processes on each GPU, each with its own worker id and a share of the cores', () => {
  const config = parseConfig(workerSchema, given, {});
  const specs = childSpecs(given, config, parseConfig(scaleOutSchema, { gpus: '2,3', processesPerGpu: '2' }, {}), {});
  expect(specs.map((s) => [s.index, s.gpu, s.env.CUDA_VISIBLE_DEVICES, s.env.RB_WORKER_PROCESS])).toEqual([
    [0, 2, '2', '0'], [1, 2, '2', '1'], [2, 3, '3', '2'], [3, 3, '3', '3'],
  ]);
  const flag = (s: (typeof specs)[number], name: string) => s.args[s.args.indexOf(name) + 1];
  expect(specs.map((s) => flag(s, '--worker-id'))).toEqual(['pod-a-0', 'pod-a-1', 'pod-a-2', 'pod-a-3']);
  for (const s of specs) expect(flag(s, '--device')).toBe('auto:0');
  // Four processes share the cores: onnxruntime's pool of each gets cores / 4 (at least 1).
  const threads = Math.max(1, Math.floor(os.availableParallelism() / 4));
  for (const s of specs) expect(flag(s, '--intra-op-threads')).toBe(String(threads));
  // The default is one process per GPU.
  expect(childSpecs(given, config, parseConfig(scaleOutSchema, { gpus: '2,3' }, {}), {}).map((s) => s.gpu)).toEqual([2, 3]);
});

it('splits the CPU cores between --processes unless told otherwise, without CUDA_VISIBLE_DEVICES', () => {
  const g = { model: '/m/model.onnx' };
  const specs = childSpecs(g, parseConfig(workerSchema, g, {}), parseConfig(scaleOutSchema, { processes: '3' }, {}), {});
  expect(specs).toHaveLength(3);
  for (const s of specs) {
    expect(s.env.CUDA_VISIBLE_DEVICES).toBeUndefined();
    expect(Number(s.args[s.args.indexOf('--intra-op-threads') + 1])).toBeGreaterThanOrEqual(1);
    expect(s.args).not.toContain('--device');
  }
});

it('refuses contradictions in the scale-out flags with E_CONFIG', () => {
  const bad = [
    () => parseConfig(scaleOutSchema, { gpus: '0,1', processes: '2' }, {}),
    () => parseConfig(scaleOutSchema, { gpus: '0,0' }, {}),
    () => parseConfig(scaleOutSchema, { gpus: 'all' }, {}),
    () => parseConfig(scaleOutSchema, { threadsPerProcess: '2' }, {}),
    () => parseConfig(scaleOutSchema, { processesPerGpu: '2' }, {}),
    () => parseConfig(scaleOutSchema, { processes: '2', processesPerGpu: '2' }, {}),
    () => parseConfig(scaleOutSchema, { gpus: '0', processesPerGpu: '0' }, {}),
    () => childSpecs({ ...given, device: 'cpu' }, parseConfig(workerSchema, { ...given, device: 'cpu' }, {}), parseConfig(scaleOutSchema, { gpus: '0' }, {}), {}),
  ];
  for (const f of bad) {
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RobertaBatchError);
    expect((err as RobertaBatchError).code).toBe('E_CONFIG');
  }
});
