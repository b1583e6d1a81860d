/**
 * Real tiny RoBERTa models for any test: generated on first use into models/cache/test/ (git-
 * ignored) and reused afterwards. The file name carries the generator version, so a changed
 * graph never runs against a stale cache. Safe when several vitest forks ask at once: each
 * writer renames its own complete temporary file into place, and all writers produce the same
 * bytes (13 MB, ~0.3 s per model).
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { PRESETS, type ModelHead, type ModelSignature, type RobertaConfig } from '../../src/model/config.js';
import { GENERATOR_VERSION, generateModel, type GenerateOptions } from '../../src/model/generate.js';
import { modelIo } from '../../src/model/graph.js';

export const TEST_MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models/cache/test');
export const DEFAULT_TEST_SEED = 1234;

export interface TestModel {
  path: string;
  config: RobertaConfig;
  head: ModelHead;
  signature: ModelSignature;
  seed: number;
}

const inFlight = new Map<string, Promise<void>>();

export async function testModel(head: ModelHead, signature: ModelSignature, opts: { seed?: number } = {}): Promise<TestModel> {
  const seed = opts.seed ?? DEFAULT_TEST_SEED;
  const file = path.join(TEST_MODEL_DIR, `tiny-${head}-${signature}-s${seed}-g${GENERATOR_VERSION}.onnx`);
  const model: TestModel = { path: file, config: { ...PRESETS.tiny }, head, signature, seed };
  if (await exists(file)) return model;
  let pending = inFlight.get(file);
  if (!pending) {
    pending = generateModel({ preset: 'tiny', head, signature, seed, out: file }).then(() => undefined);
    inFlight.set(file, pending);
    pending.finally(() => inFlight.delete(file)).catch(() => undefined);
  }
  await pending;
  return model;
}

/**
 * A generated model with its own shape (not the tiny preset), cached like testModel: `opts.out`
 * must carry GENERATOR_VERSION in its name. Returns its path.
 */
export async function cachedModel(opts: GenerateOptions): Promise<string> {
  if (!opts.out.includes(`-g${GENERATOR_VERSION}`)) throw new Error(`cachedModel: ${opts.out} must name generator version g${GENERATOR_VERSION}`);
  if (await exists(opts.out)) return opts.out;
  let pending = inFlight.get(opts.out);
  if (!pending) {
    pending = generateModel(opts).then(() => undefined);
    inFlight.set(opts.out, pending);
    pending.finally(() => inFlight.delete(opts.out)).catch(() => undefined);
  }
  await pending;
  return opts.out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export interface ModelRunOutput {
  /** [batch][numLabels] */
  logits?: number[][];
  /** [batch][seq][hidden] */
  lastHidden?: number[][][];
  /** [batch][hidden] */
  pooled?: number[][];
}

/**
 * Runs a generated model once on a right-padded batch, feeding inputs by the names its
 * signature uses. The session is released before returning.
 */
export async function runTestModel(model: TestModel, inputIds: number[][], attentionMask?: number[][]): Promise<ModelRunOutput> {
  const io = modelIo(model.head, model.signature);
  const batch = inputIds.length;
  const seq = inputIds[0].length;
  const int64 = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [batch, seq]);
  const feeds: Record<string, ort.Tensor> = { [io.inputIds]: int64(inputIds) };
  if (io.attentionMask) feeds[io.attentionMask] = int64(attentionMask ?? inputIds.map((r) => r.map(() => 1)));
  const session = await ort.InferenceSession.create(model.path);
  try {
    const out = await session.run(feeds);
    const rows = (t: ort.Tensor, width: number): number[][] => {
      const data = Array.from(t.data as Float32Array);
      return Array.from({ length: data.length / width }, (_, i) => data.slice(i * width, (i + 1) * width));
    };
    const H = model.config.hiddenSize;
    if (io.logits) return { logits: rows(out[io.logits], model.config.numLabels) };
    const flat = rows(out[io.lastHiddenState!], H);
    return {
      lastHidden: Array.from({ length: batch }, (_, b) => flat.slice(b * seq, (b + 1) * seq)),
      pooled: rows(out[io.pooledOutput!], H),
    };
  } finally {
    await session.release();
  }
}

/** Largest absolute difference between two equally shaped nested arrays. */
export function maxAbsDiff(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  if (a.length !== b.length) throw new Error(`shape mismatch: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    const d = typeof x === 'number' ? Math.abs(x - (y as number)) : maxAbsDiff(x as ArrayLike<unknown>, y as ArrayLike<unknown>);
    if (Number.isNaN(d)) return Infinity;
    if (d > max) max = d;
  }
  return max;
}
