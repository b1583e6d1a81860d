// GPU host check for roberta-batch (run by scripts/gpu-check.sh; needs dist/ built).
// 1. the CUDA provider library of onnxruntime-node is installed;
// 2. a CUDA session opens on a generated roberta-base-sized model (preset "base": 12 layers,
//    hidden 768, the real 50265-token vocabulary; seeded weights, no download);
// 3. CUDA logits equal CPU logits on 4 rows (max abs diff <= 1e-3);
// 4. throughput at batch 64 x --seq tokens (default 128): ms per batch, documents and tokens per s.
// Prints one JSON summary line (also written to $OUT/gpu-check.json when OUT is set).
// Exit 0 only when every step passed; E_CUDA_UNAVAILABLE and its hint when CUDA cannot load.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { generateModel } = await import(path.join(root, 'dist/model/generate.js'));
const { OnnxEngine } = await import(path.join(root, 'dist/worker/engine.js'));
const { deviceSchema } = await import(path.join(root, 'dist/shared/config.js'));

const { values: a } = parseArgs({
  options: {
    device: { type: 'string', default: 'cuda:0' },
    preset: { type: 'string', default: 'base' },
    batch: { type: 'string', default: '64' },
    seq: { type: 'string', default: '128' },
    iterations: { type: 'string', default: '20' },
    'cpu-iterations': { type: 'string', default: '0' },
    dir: { type: 'string', default: path.join(root, 'models/cache/gpu-check') },
  },
});
const device = deviceSchema.parse(a.device);
const batch = Number(a.batch);
const seq = Number(a.seq);
const iterations = Number(a.iterations);
const summary = { device: a.device, preset: a.preset, batch, seq, steps: {} };
const step = (name, value) => { summary.steps[name] = value; console.error(`[gpu-check] ${name}: ${JSON.stringify(value)}`); };

const ortBin = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
step('cudaProviderInstalled', existsSync(path.join(ortBin, 'libonnxruntime_providers_cuda.so')));
try {
  step('gpus', execFileSync('nvidia-smi', ['--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' }).trim().split('\n'));
} catch {
  step('gpus', 'nvidia-smi not found');
}

mkdirSync(a.dir, { recursive: true });
const model = path.join(a.dir, `${a.preset}-classification-hf-s1.onnx`);
if (!existsSync(model)) {
  const t = performance.now();
  await generateModel({ preset: a.preset, head: 'sequence-classification', signature: 'hf', seed: 1, out: model });
  step('generatedModelMs', Math.round(performance.now() - t));
}

// Deterministic token ids inside the vocabulary (specials 0..3 left out), every row full length.
function tokens(rows) {
  const ids = new Int32Array(rows * seq);
  let x = 12345;
  for (let i = 0; i < ids.length; i++) { x = (x * 1103515245 + 12345) >>> 0; ids[i] = 4 + (x % 50000); }
  for (let r = 0; r < rows; r++) { ids[r * seq] = 0; ids[r * seq + seq - 1] = 2; }
  return { rows, seq, ids, lengths: new Int32Array(rows).fill(seq) };
}

const opts = (d) => ({ device: d, graphOptimization: 'all', intraOpThreads: 0, interOpThreads: 0, skipHash: true });
let t = performance.now();
let engine;
try {
  engine = await OnnxEngine.open(model, opts(device));
} catch (err) {
  // E_CUDA_UNAVAILABLE and its hint (install flag, CUDA_VISIBLE_DEVICES, driver), no stack.
  console.error(typeof err?.describe === 'function' ? err.describe() : String(err?.stack ?? err));
  process.exit(1);
}
step('session', { device: engine.info.device, providers: engine.info.providers, openMs: Math.round(performance.now() - t) });

const cpu = await OnnxEngine.open(model, opts({ kind: 'cpu' }));
const small = tokens(4);
const [x, y] = [await engine.run(small), await cpu.run(small)];
let maxDiff = 0;
for (let i = 0; i < x.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x.data[i] - y.data[i]));
step('parityWithCpu', { rows: 4, maxAbsDiff: maxDiff, ok: maxDiff <= 1e-3 });

async function throughput(e, n) {
  const input = tokens(batch);
  await e.run(input); // warm-up: kernels, cuDNN autotuning, arena growth
  const times = [];
  for (let i = 0; i < n; i++) { t = performance.now(); await e.run(input); times.push(performance.now() - t); }
  times.sort((p, q) => p - q);
  const median = times[Math.floor(times.length / 2)];
  return { iterations: n, medianMsPerBatch: Math.round(median * 10) / 10, docsPerSecond: Math.round((batch * 1000) / median), tokensPerSecond: Math.round((batch * seq * 1000) / median) };
}
step('throughput', await throughput(engine, iterations));
if (Number(a['cpu-iterations']) > 0) step('cpuThroughput', await throughput(cpu, Number(a['cpu-iterations'])));
await engine.close();
await cpu.close();

const wantCuda = device.kind !== 'cpu';
summary.ok = summary.steps.parityWithCpu.ok && (!wantCuda || summary.steps.session.device.startsWith('cuda'));
const line = JSON.stringify(summary);
console.log(line);
if (process.env.OUT) writeFileSync(path.join(process.env.OUT, 'gpu-check.json'), `${line}\n`);
process.exit(summary.ok ? 0 : 1);
