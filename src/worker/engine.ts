/**
 * The only module that imports onnxruntime-node. Owns the session: opens an ONNX file (after
 * the file checks of model/model-file.ts), reads its signature (model/signature.ts) and runs
 * padded token batches, pooled to one vector per row (pooling.ts).
 *
 * It runs inside the inference thread (inference-thread.ts): `session.run` holds the thread
 * it runs on for the whole batch, which must never be the thread that renews BullMQ locks.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { checkModelFile, resolveModelFile } from '../model/model-file.js';
import { detectSignature, type DetectedSignature, type OutputKind, type TensorMeta } from '../model/signature.js';
import { E } from '../shared/errors.js';
import type { Pooling } from '../shared/types.js';
import { l2normalizeRows, poolTokenStates } from './pooling.js';

export type { DetectedSignature, OutputKind } from '../model/signature.js';

export type Device = { kind: 'cpu' } | { kind: 'cuda'; id: number } | { kind: 'auto'; id: number };
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface EngineOptions {
  device: Device;
  graphOptimization: GraphOptimization;
  /** 0 = onnxruntime's default (one per physical core). */
  intraOpThreads: number;
  interOpThreads: number;
  /**
   * Whether onnxruntime's pool threads spin-wait for work between operators (onnxruntime's
   * own default: on). Undefined = this project's default, see SPINNING_DEFAULT.
   */
  spinning?: boolean;
  /** Overrides the detection from output shapes. */
  outputKind?: OutputKind;
  /** Skips the sha256 of the file (500 MB take ~1 s); the info then reports "unhashed". */
  skipHash?: boolean;
}

export interface ModelInfo {
  path: string;
  name: string;
  sha256: string;
  bytes: number;
  signature: DetectedSignature;
  device: string;
  providers: string[];
}

/** A padded batch, row-major. Rows are padded with the tokenizer's pad id after `lengths[r]`. */
export interface TokenBatch {
  rows: number;
  seq: number;
  ids: Int32Array;
  lengths: Int32Array;
}

export interface BatchRequest extends TokenBatch {
  /** For base models: how to turn token states into one vector per row. */
  pooling?: Pooling;
  normalize?: boolean;
}

/** One vector per row: logits (classification) or a pooled embedding (base). */
export interface BatchOutput {
  kind: 'logits' | 'embedding';
  rows: number;
  width: number;
  data: Float32Array;
  runMs: number;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function meta(m: ort.InferenceSession.ValueMetadata): TensorMeta {
  return m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
}

/**
 * Spin-waiting of onnxruntime's thread pools when the caller says nothing: off for both.
 * CPU, measured on 2 shared cores (docs/BENCHMARKS.md, "onnxruntime threads"): with a
 * near-free model spinning raised the worker's CPU per document by 40-60 % (the spinning
 * pool competes with the main thread that tokenizes and talks to Redis); on the roberta-base
 * model, on / off throughput was 1.01 (within noise). CUDA: the CPU threads only run the few
 * operators left on the CPU, and spinning would take a core from the thread feeding the GPU
 * (not measured: no GPU here).
 */
export const SPINNING_DEFAULT = { cpu: false, cuda: false } as const;

function sessionOptions(opts: EngineOptions, cuda: boolean): ort.InferenceSession.SessionOptions {
  const spin = (opts.spinning ?? SPINNING_DEFAULT[cuda ? 'cuda' : 'cpu']) ? '1' : '0';
  const so: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimization,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    executionProviders: cuda ? [{ name: 'cuda', deviceId: opts.device.kind === 'cpu' ? 0 : opts.device.id }, 'cpu'] : ['cpu'],
  };
  // Session config keys session.intra_op.allow_spinning / session.inter_op.allow_spinning.
  so.extra = { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } };
  if (opts.intraOpThreads > 0) so.intraOpNumThreads = opts.intraOpThreads;
  if (opts.interOpThreads > 0) so.interOpNumThreads = opts.interOpThreads;
  return so;
}

export class OnnxEngine {
  readonly info: ModelInfo;
  #session: ort.InferenceSession;
  #closed = false;
  #last: Promise<unknown> = Promise.resolve();

  private constructor(session: ort.InferenceSession, info: ModelInfo) {
    this.#session = session;
    this.info = info;
  }

  static async open(modelPath: string, opts: EngineOptions): Promise<OnnxEngine> {
    const file = await resolveModelFile(modelPath);
    const bytes = await checkModelFile(file);
    let session: ort.InferenceSession | undefined;
    let device = 'cpu';
    let providers = ['cpu'];
    if (opts.device.kind !== 'cpu') {
      try {
        session = await ort.InferenceSession.create(file, sessionOptions(opts, true));
        device = `cuda:${opts.device.id}`;
        providers = ['cuda', 'cpu'];
      } catch (err) {
        if (opts.device.kind === 'cuda') {
          throw E.CUDA_UNAVAILABLE(`cannot create a CUDA session for ${file} on device ${opts.device.id}: ${(err as Error).message.split('\n')[0]}`, {
            hint: 'install the CUDA 12 binaries of onnxruntime-node (after npm ci: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; see docs/DEPLOY.md), check CUDA_VISIBLE_DEVICES and the driver, or use --device cpu / --device auto',
            cause: err,
            context: { file },
          });
        }
        // --device auto: fall back to CPU, the caller logs it from info.device.
      }
    }
    if (!session) {
      try {
        session = await ort.InferenceSession.create(file, sessionOptions(opts, false));
      } catch (err) {
        // The file passed checkModelFile: it is ONNX, onnxruntime cannot run it.
        throw E.MODEL_LOAD(file, err);
      }
    }
    let signature: DetectedSignature;
    try {
      signature = detectSignature(session.inputMetadata.map(meta), session.outputMetadata.map(meta), file, opts.outputKind);
    } catch (err) {
      await session.release();
      throw err;
    }
    const sha256 = opts.skipHash ? 'unhashed' : await sha256File(file);
    const name = path.basename(file) === 'model.onnx' ? path.basename(path.dirname(file)) : path.basename(file, '.onnx');
    return new OnnxEngine(session, { path: file, name, sha256, bytes, signature, device, providers });
  }

  /**
   * Runs one padded batch and reduces it to one vector per row. Calls are serialised: one
   * session run at a time (onnxruntime parallelises inside a run; two concurrent runs on two
   * cores only compete for the same cores and double the activation memory).
   */
  run(req: BatchRequest): Promise<BatchOutput> {
    const next = this.#last.then(() => this.#runNow(req));
    this.#last = next.catch(() => undefined);
    return next;
  }

  async #runNow(req: BatchRequest): Promise<BatchOutput> {
    if (this.#closed) throw E.SHUTDOWN('engine is closed');
    const sig = this.info.signature;
    const { rows, seq } = req;
    const dims = [rows, seq];
    const feeds: Record<string, ort.Tensor> = {};
    feeds[sig.idsInput] = intTensor(sig.idsType, req.ids, dims);
    if (sig.maskInput) {
      const mask = new Int32Array(rows * seq);
      for (let r = 0; r < rows; r++) mask.fill(1, r * seq, r * seq + req.lengths[r]);
      feeds[sig.maskInput] = intTensor(sig.maskType ?? 'int64', mask, dims);
    }
    if (sig.tokenTypeInput) feeds[sig.tokenTypeInput] = intTensor(sig.idsType, new Int32Array(rows * seq), dims);

    const t0 = performance.now();
    if (sig.outputKind === 'classification') {
      const res = await this.#session.run(feeds, [sig.logitsOutput!]);
      const t = res[sig.logitsOutput!];
      const data = t.data as Float32Array;
      const width = data.length / rows;
      disposeAll(res);
      return { kind: 'logits', rows, width, data: new Float32Array(data), runMs: performance.now() - t0 };
    }
    const pooling = req.pooling ?? 'mean';
    const wantPooled = pooling === 'pooler';
    if (wantPooled && !sig.pooledOutput) {
      throw E.MODEL_TASK_MISMATCH(`${this.info.path} has no pooled output for --pooling pooler`, { hint: 'use --pooling mean or cls' });
    }
    const fetch = wantPooled ? sig.pooledOutput! : sig.lastHiddenOutput!;
    const res = await this.#session.run(feeds, [fetch]);
    const runMs = performance.now() - t0;
    const t = res[fetch];
    const src = t.data as Float32Array;
    let out: Float32Array;
    let width: number;
    if (wantPooled) {
      width = src.length / rows;
      out = new Float32Array(src);
    } else {
      ({ data: out, width } = poolTokenStates(src, rows, seq, req.lengths, pooling));
    }
    disposeAll(res);
    if (req.normalize) l2normalizeRows(out, rows, width);
    return { kind: 'embedding', rows, width, data: out, runMs };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}

function intTensor(type: 'int64' | 'int32', src: Int32Array, dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', src, dims);
  const big = new BigInt64Array(src.length);
  for (let i = 0; i < src.length; i++) big[i] = BigInt(src[i]);
  return new ort.Tensor('int64', big, dims);
}

function disposeAll(res: ort.InferenceSession.OnnxValueMapType): void {
  for (const v of Object.values(res)) (v as ort.Tensor).dispose?.();
}
