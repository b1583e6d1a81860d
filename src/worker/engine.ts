/**
 * The only module that imports onnxruntime-node. Opens an ONNX file, detects its RoBERTa
 * signature from the session's input/output metadata and runs padded token batches.
 *
 * It runs inside the inference thread (inference-thread.ts): `session.run` holds the thread
 * it runs on for the whole batch, which must never be the thread that renews BullMQ locks.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { RobertaBatchError } from '../shared/errors.js';
import type { Pooling } from '../shared/types.js';

export type Device = { kind: 'cpu' } | { kind: 'cuda'; id: number } | { kind: 'auto'; id: number };
export type OutputKind = 'classification' | 'base';
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

export interface DetectedSignature {
  /** `zoo`: input_ids only (padding changes results: batch equal lengths only). `hf`: with attention_mask. */
  kind: 'zoo' | 'hf';
  idsInput: string;
  idsType: 'int64' | 'int32';
  maskInput?: string;
  maskType?: 'int64' | 'int32';
  tokenTypeInput?: string;
  outputKind: OutputKind;
  logitsOutput?: string;
  numLabels?: number;
  lastHiddenOutput?: string;
  pooledOutput?: string;
  hiddenSize?: number;
  inputs: { name: string; type: string; shape: (number | string)[] }[];
  outputs: { name: string; type: string; shape: (number | string)[] }[];
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

const LFS_MAGIC = 'version https://git-lfs.github.com/spec/';

/** Resolves a model argument: a .onnx file, or a folder holding model.onnx. */
export async function resolveModelFile(modelPath: string): Promise<string> {
  const st = await stat(modelPath).catch(() => undefined);
  if (!st) {
    throw new RobertaBatchError('E_MODEL_NOT_FOUND', `model file ${modelPath} does not exist`, {
      hint: 'fetch one with `roberta-batch models fetch roberta-sequence-classification-9` or generate a test model with `roberta-batch models generate`',
      context: { file: modelPath },
    });
  }
  if (st.isDirectory()) {
    const inner = path.join(modelPath, 'model.onnx');
    if (!(await stat(inner).catch(() => undefined))) {
      throw new RobertaBatchError('E_MODEL_NOT_FOUND', `folder ${modelPath} holds no model.onnx`, {
        hint: 'point --model at the .onnx file, or fetch a model bundle with `roberta-batch models fetch <name>`',
        context: { file: inner },
      });
    }
    return inner;
  }
  return modelPath;
}

/** Fails fast, with a fix, on the files users most often point at by mistake. */
export async function checkModelFile(file: string): Promise<number> {
  const st = await stat(file);
  if (st.size === 0) {
    throw new RobertaBatchError('E_MODEL_EMPTY', `model file ${file} is empty (0 bytes)`, {
      hint: 'a download was interrupted: delete it and run `roberta-batch models fetch <name>` again',
      context: { file },
    });
  }
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(200, st.size));
    await fh.read(head, 0, head.length, 0);
    if (head.toString('latin1').startsWith(LFS_MAGIC)) {
      throw new RobertaBatchError('E_MODEL_LFS_POINTER', `model file ${file} is a Git LFS pointer (${st.size} bytes), not the model`, {
        hint: 'the repository was cloned without Git LFS: run `git lfs pull` in it, or `roberta-batch models fetch <name>` which downloads the real file',
        context: { file },
      });
    }
    // An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    if (head[0] !== 0x08) {
      throw new RobertaBatchError('E_MODEL_NOT_ONNX', `model file ${file} is not an ONNX model (first byte 0x${head[0].toString(16)})`, {
        hint: 'pass a .onnx file exported from a RoBERTa model (see docs/MODELS.md)',
        context: { file },
      });
    }
  } finally {
    await fh.close();
  }
  return st.size;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function meta(m: ort.InferenceSession.ValueMetadata): { name: string; type: string; shape: (number | string)[] } {
  return m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
}

/**
 * Reads which RoBERTa signature a session has. Inputs: `input_ids` (or the only integer
 * input), optional `attention_mask`, optional `token_type_ids`. Outputs: a rank-2 output with
 * a small last dimension is classification logits; a rank-3 output is the last hidden state.
 */
export function detectSignature(session: ort.InferenceSession, file: string, override?: OutputKind): DetectedSignature {
  const inputs = session.inputMetadata.map(meta);
  const outputs = session.outputMetadata.map(meta);
  const sigError = (msg: string) =>
    new RobertaBatchError('E_MODEL_SIGNATURE', `${file}: ${msg}; inputs are ${inputs.map((i) => `${i.name}:${i.type}[${i.shape.join(',')}]`).join(', ')}`, {
      hint: 'roberta-batch runs RoBERTa-family models with input_ids [batch, seq] (and optionally attention_mask); see docs/MODELS.md',
      context: { file },
    });
  const intTypes = new Set(['int64', 'int32']);
  const ids = inputs.find((i) => i.name === 'input_ids') ?? (inputs.length === 1 && intTypes.has(inputs[0].type) ? inputs[0] : undefined);
  if (!ids) throw sigError('no input_ids input');
  if (!intTypes.has(ids.type)) throw sigError(`input ${ids.name} has type ${ids.type}, expected int64 or int32`);
  if (ids.shape.length !== 2) throw sigError(`input ${ids.name} has rank ${ids.shape.length}, expected [batch, seq]`);
  const mask = inputs.find((i) => i.name === 'attention_mask');
  const tokenTypes = inputs.find((i) => i.name === 'token_type_ids');
  const unknown = inputs.filter((i) => i !== ids && i !== mask && i !== tokenTypes);
  if (unknown.length) throw sigError(`unexpected inputs ${unknown.map((u) => u.name).join(', ')}`);
  if (mask && !intTypes.has(mask.type)) throw sigError(`attention_mask has type ${mask.type}`);

  const floats = outputs.filter((o) => o.type === 'float32');
  const rank3 = floats.find((o) => o.shape.length === 3);
  const rank2 = floats.filter((o) => o.shape.length === 2);
  const logits = rank2.find((o) => o.name === 'logits') ?? (rank3 ? undefined : rank2[0]);
  let outputKind: OutputKind | undefined = override;
  if (!outputKind) outputKind = rank3 ? 'base' : logits ? 'classification' : undefined;
  const out: DetectedSignature = {
    kind: mask ? 'hf' : 'zoo',
    idsInput: ids.name,
    idsType: ids.type as 'int64' | 'int32',
    maskInput: mask?.name,
    maskType: mask?.type as 'int64' | 'int32' | undefined,
    tokenTypeInput: tokenTypes?.name,
    outputKind: outputKind ?? 'classification',
    inputs,
    outputs,
  };
  if (!outputKind) {
    throw new RobertaBatchError('E_MODEL_TASK_MISMATCH', `${file}: no float32 output of shape [batch, labels] or [batch, seq, hidden]; outputs are ${outputs.map((o) => `${o.name}:${o.type}[${o.shape.join(',')}]`).join(', ')}`, {
      hint: 'use a sequence-classification model for --task sentiment and a base model for --task embed',
      context: { file },
    });
  }
  if (outputKind === 'classification') {
    const l = logits ?? rank2[0];
    if (!l) throw new RobertaBatchError('E_MODEL_TASK_MISMATCH', `${file}: no [batch, labels] output for classification`, { context: { file } });
    out.logitsOutput = l.name;
    out.numLabels = typeof l.shape[1] === 'number' ? l.shape[1] : undefined;
  } else {
    if (!rank3) throw new RobertaBatchError('E_MODEL_TASK_MISMATCH', `${file}: no [batch, seq, hidden] output for embeddings`, { context: { file } });
    out.lastHiddenOutput = rank3.name;
    out.hiddenSize = typeof rank3.shape[2] === 'number' ? rank3.shape[2] : undefined;
    out.pooledOutput = rank2.find((o) => o !== rank3)?.name;
  }
  return out;
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
          throw new RobertaBatchError('E_CUDA_UNAVAILABLE', `cannot create a CUDA session for ${file} on device ${opts.device.id}: ${(err as Error).message.split('\n')[0]}`, {
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
        throw new RobertaBatchError('E_MODEL_NOT_ONNX', `onnxruntime cannot load ${file}: ${(err as Error).message.split('\n')[0]}`, {
          hint: 'the file is damaged or not an ONNX model: fetch it again (`roberta-batch models fetch <name>`) or re-export it',
          cause: err,
          context: { file },
        });
      }
    }
    let signature: DetectedSignature;
    try {
      signature = detectSignature(session, file, opts.outputKind);
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
    if (this.#closed) throw new RobertaBatchError('E_SHUTDOWN', 'engine is closed');
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
      throw new RobertaBatchError('E_MODEL_TASK_MISMATCH', `${this.info.path} has no pooled output for --pooling pooler`, { hint: 'use --pooling mean or cls' });
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
      width = src.length / (rows * seq);
      out = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++) {
        const dst = out.subarray(r * width, (r + 1) * width);
        if (pooling === 'cls') {
          dst.set(src.subarray(r * seq * width, r * seq * width + width));
        } else {
          // Mean over the row's real tokens only (specials included, padding never).
          const len = req.lengths[r];
          const acc = new Float64Array(width);
          for (let p = 0; p < len; p++) {
            const base = (r * seq + p) * width;
            for (let k = 0; k < width; k++) acc[k] += src[base + k];
          }
          for (let k = 0; k < width; k++) dst[k] = acc[k] / len;
        }
      }
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

export function l2normalizeRows(data: Float32Array, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < width; k++) s += data[r * width + k] ** 2;
    const n = Math.sqrt(s) || 1;
    for (let k = 0; k < width; k++) data[r * width + k] /= n;
  }
}
