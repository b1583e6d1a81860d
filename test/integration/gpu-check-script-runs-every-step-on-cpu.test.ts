/**
 * scripts/gpu-check.sh is meant for a GPU host, which this machine is not;
 * with --device cpu it runs the same steps (model generation, session, parity with CPU,
 * throughput) so the script cannot rot unnoticed, and --device cuda:0 fails the way a GPU
 * host without the CUDA provider would: E_CUDA_UNAVAILABLE with the install hint, exit 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const script = path.join(repoRoot, 'scripts/gpu-check.sh');
const run = (args: string[]) => spawnSync(script, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });

it('runs every step on CPU and prints one JSON summary', () => {
  const r = run(['--device', 'cpu', '--preset', 'tiny', '--batch', '4', '--seq', '16', '--iterations', '2']);
  expect(r.status, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  expect(summary).toMatchObject({ ok: true, batch: 4, seq: 16, steps: { session: { device: 'cpu' }, parityWithCpu: { ok: true } } });
  expect(summary.steps.throughput.docsPerSecond).toBeGreaterThan(0);
}, 90_000);

const cudaInstalled = existsSync(path.join(repoRoot, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'));

it.skipIf(cudaInstalled)('fails with E_CUDA_UNAVAILABLE and the install hint where CUDA cannot load', () => {
  const r = run(['--device', 'cuda:0', '--preset', 'tiny', '--batch', '4', '--seq', '16', '--iterations', '1']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/E_CUDA_UNAVAILABLE: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
}, 90_000);
