/**
 * Writes a RoBERTa ONNX model with seeded random weights. Real weights cannot be fetched in
 * every environment (CI, air-gapped hosts), yet the engine must be exercised with a real graph
 * of the real size; scores of these models mean nothing, which metadata_props says.
 *
 * The base preset is 499 MB: protobuf lengths are computed first, then the tensors are produced
 * and written one at a time (peak memory ≈ the 154 MB word-embedding table), into a temporary
 * file renamed into place, so a reader never sees half a model.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPresetName, PRESETS, validateConfig, type ModelHead, type ModelSignature, type PresetName, type RobertaConfig } from './config.js';
import { buildRobertaGraph, IR_VERSION, OPSET } from './graph.js';
import { encodeModel, type LazyBytes, type ModelProto, type Part } from './onnx-proto.js';
import { elementCount, generateTensor, type WeightSpec } from './weights.js';

/** Bump when the graph or the weights change, so caches keyed on it regenerate. */
export const GENERATOR_VERSION = 1;

export const METADATA_KEYS = {
  generated: 'roberta_batch.generated',
  generatorVersion: 'roberta_batch.generator_version',
  preset: 'roberta_batch.preset',
  config: 'roberta_batch.config',
  seed: 'roberta_batch.seed',
  head: 'roberta_batch.head',
  signature: 'roberta_batch.signature',
  warning: 'roberta_batch.warning',
} as const;

export interface GenerateOptions {
  /** A preset name, or pass `config`; `config` wins when both are given. */
  preset?: PresetName;
  config?: RobertaConfig;
  head: ModelHead;
  signature: ModelSignature;
  seed: number;
  /** Destination .onnx path; its folder is created. */
  out: string;
}

export interface GeneratedModel {
  path: string;
  bytes: number;
  sha256: string;
  config: RobertaConfig;
  head: ModelHead;
  signature: ModelSignature;
}

// Small parts (node protos, headers) are coalesced into writes of at least 1 MiB.
const WRITE_CHUNK = 1 << 20;

export async function generateModel(opts: GenerateOptions): Promise<GeneratedModel> {
  const config = resolveConfig(opts);
  if (os.endianness() !== 'LE') throw new Error('generateModel writes Float32Array memory as ONNX raw_data, which is little-endian; this host is big-endian');
  const model = buildModel(config, opts);
  const { parts, byteLength } = encodeModel(model);

  const out = path.resolve(opts.out);
  await mkdir(path.dirname(out), { recursive: true });
  // Unique per writer, so concurrent generators of the same file never share a temp file; the
  // `.onnx.part` suffix is git-ignored.
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}-${randomBytes(4).toString('hex')}.onnx.part`);
  const hash = createHash('sha256');
  let written = 0;
  try {
    const fh = await open(tmp, 'w');
    try {
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        await writeAll(fh, buf);
        hash.update(buf);
        written += buf.byteLength;
        pending = [];
        pendingBytes = 0;
      };
      for (const part of parts) {
        const bytes = part instanceof Uint8Array ? part : produce(part);
        if (bytes.byteLength >= WRITE_CHUNK) {
          await flush();
          await writeAll(fh, bytes);
          hash.update(bytes);
          written += bytes.byteLength;
        } else {
          pending.push(bytes);
          pendingBytes += bytes.byteLength;
          if (pendingBytes >= WRITE_CHUNK) await flush();
        }
      }
      await flush();
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (written !== byteLength) throw new Error(`wrote ${written} bytes, expected ${byteLength}`);
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path: out, bytes: written, sha256: hash.digest('hex'), config, head: opts.head, signature: opts.signature };
}

/** The model structure with lazily produced weights; exported for tests that inspect the graph. */
export function buildModel(config: RobertaConfig, opts: Pick<GenerateOptions, 'head' | 'signature' | 'seed'>): ModelProto {
  const tensorData = (spec: WeightSpec): LazyBytes => ({
    byteLength: elementCount(spec.dims) * 4,
    produce: () => {
      const f = generateTensor(spec, opts.seed);
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    },
  });
  const graph = buildRobertaGraph({ config, head: opts.head, signature: opts.signature, tensorData });
  const meta: Record<string, string> = {
    [METADATA_KEYS.generated]: 'true',
    [METADATA_KEYS.generatorVersion]: String(GENERATOR_VERSION),
    [METADATA_KEYS.preset]: presetOf(config) ?? 'custom',
    [METADATA_KEYS.config]: JSON.stringify(config),
    [METADATA_KEYS.seed]: String(opts.seed),
    [METADATA_KEYS.head]: opts.head,
    [METADATA_KEYS.signature]: opts.signature,
    [METADATA_KEYS.warning]: 'random weights generated by roberta-batch: outputs are deterministic but meaningless',
  };
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'roberta-batch',
    producerVersion: String(GENERATOR_VERSION),
    domain: '',
    modelVersion: 0,
    docString: '',
    graph,
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
  };
}

function resolveConfig(opts: GenerateOptions): RobertaConfig {
  if (opts.config) return validateConfig({ ...opts.config });
  if (opts.preset === undefined) throw new Error('generateModel: pass a preset (tiny, base) or a config');
  if (!isPresetName(opts.preset)) throw new Error(`generateModel: unknown preset "${String(opts.preset)}": expected tiny or base`);
  return { ...PRESETS[opts.preset] };
}

function presetOf(config: RobertaConfig): PresetName | undefined {
  const same = (a: RobertaConfig, b: RobertaConfig): boolean => (Object.keys(a) as (keyof RobertaConfig)[]).every((k) => a[k] === b[k]);
  return (Object.keys(PRESETS) as PresetName[]).find((p) => same(config, PRESETS[p]));
}

function produce(part: Exclude<Part, Uint8Array>): Uint8Array {
  const bytes = part.produce();
  if (bytes.byteLength !== part.byteLength) throw new Error(`tensor produced ${bytes.byteLength} bytes, announced ${part.byteLength}`);
  return bytes;
}

async function writeAll(fh: import('node:fs/promises').FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, off, buf.byteLength - off);
    off += bytesWritten;
  }
}
