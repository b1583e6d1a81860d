/**
 * The real models users run, where they are downloaded from, and how to check them.
 *
 * A bundle is one folder, `models/<name>/`, holding `model.onnx` plus the roberta-base
 * tokenizer (`tokenizer.json`, or `vocab.json` + `merges.txt` when tokenizer.json cannot be
 * fetched), so a worker is pointed at a folder: `--model models/<name>`.
 *
 * Sources (see docs/MODELS.md):
 * - ONNX Model Zoo files are Git LFS objects in github.com/onnx/models. `raw.githubusercontent.com`
 *   serves the 134-byte LFS pointer, not the model; `media.githubusercontent.com/media/...` serves
 *   the object itself (and is where `github.com/onnx/models/raw/main/...` redirects). Size and
 *   sha256 below are the `size` and `oid sha256:` lines of the LFS pointers, so a download is
 *   verified end to end.
 * - The tokenizer comes from the Hugging Face hub (`FacebookAI/roberta-base`, branch main). Its
 *   sizes and hashes are not pinned here, so those files are checked by size only when a size is
 *   known (today: not at all) — a mirror that serves a wrong tokenizer is not caught here but by
 *   the worker's vocabulary check against the model (E_MODEL_VOCAB_MISMATCH).
 *
 * Mirrors: every remote file has a path relative to its source's base URL. A mirror replaces
 * both bases with one (`ROBERTA_BATCH_MODEL_MIRROR` or the `baseUrl` option), so a mirror is a
 * static file tree with the same relative paths:
 *   <mirror>/validated/text/machine_comprehension/roberta/model/roberta-base-11.onnx
 *   <mirror>/FacebookAI/roberta-base/resolve/main/tokenizer.json
 */
import { E } from '../shared/errors.js';

export type ModelTask = 'sentiment' | 'embed';
export type FileSource = 'onnx-zoo' | 'huggingface';

export interface RemoteFile {
  source: FileSource;
  /** Path relative to the source's base URL (no leading slash). */
  path: string;
  /** Bytes; undefined when not pinned. */
  size?: number;
  /** Lower-case hex sha256; undefined when not pinned. */
  sha256?: string;
}

export interface TokenizerFiles {
  /** Preferred: the fast-tokenizer file. */
  json: RemoteFile;
  /** Fallback pair when tokenizer.json cannot be fetched. */
  vocab: RemoteFile;
  merges: RemoteFile;
}

export interface ModelEntry {
  name: string;
  task: ModelTask;
  description: string;
  model: RemoteFile;
  tokenizer: TokenizerFiles;
}

export const DEFAULT_BASE_URLS: Readonly<Record<FileSource, string>> = Object.freeze({
  'onnx-zoo': 'https://media.githubusercontent.com/media/onnx/models/main',
  huggingface: 'https://huggingface.co',
});

/** Replaces every source's base URL with one mirror (a static tree with the same relative paths). */
export const MODEL_MIRROR_ENV = 'ROBERTA_BATCH_MODEL_MIRROR';

/** File names inside a bundle folder. */
export const BUNDLE_FILES = Object.freeze({
  model: 'model.onnx',
  tokenizerJson: 'tokenizer.json',
  vocab: 'vocab.json',
  merges: 'merges.txt',
});

const ZOO_ROBERTA_DIR = 'validated/text/machine_comprehension/roberta/model';
const HF_ROBERTA_BASE = 'FacebookAI/roberta-base/resolve/main';

const ROBERTA_BASE_TOKENIZER: TokenizerFiles = Object.freeze({
  json: { source: 'huggingface', path: `${HF_ROBERTA_BASE}/tokenizer.json` },
  vocab: { source: 'huggingface', path: `${HF_ROBERTA_BASE}/vocab.json` },
  merges: { source: 'huggingface', path: `${HF_ROBERTA_BASE}/merges.txt` },
}) as TokenizerFiles;

export const MODELS = Object.freeze({
  'roberta-sequence-classification-9': {
    name: 'roberta-sequence-classification-9',
    task: 'sentiment',
    description: 'RoBERTa-base fine-tuned for binary movie-review sentiment (ONNX opset 9, logits [batch, 2]: 0 negative, 1 positive)',
    model: {
      source: 'onnx-zoo',
      path: `${ZOO_ROBERTA_DIR}/roberta-sequence-classification-9.onnx`,
      size: 498_658_080,
      sha256: '8b28f588889de84ef45918765b25bd0e74179b9be5d9320dafdddcb2553784cc',
    },
    tokenizer: ROBERTA_BASE_TOKENIZER,
  },
  'roberta-base-11': {
    name: 'roberta-base-11',
    task: 'embed',
    description: 'RoBERTa-base encoder (ONNX opset 11, hidden states [batch, seq, 768] and pooled [batch, 768])',
    model: {
      source: 'onnx-zoo',
      path: `${ZOO_ROBERTA_DIR}/roberta-base-11.onnx`,
      size: 498_649_858,
      sha256: 'ad476a33a4b227f6e6b2e1c7192df1b61640657f26b390857ab943de66236c0b',
    },
    tokenizer: ROBERTA_BASE_TOKENIZER,
  },
} satisfies Record<string, ModelEntry>);

export type KnownModelName = keyof typeof MODELS;

export function listModels(): ModelEntry[] {
  return Object.values(MODELS);
}

export function isKnownModel(name: string): name is KnownModelName {
  return Object.hasOwn(MODELS, name);
}

/** The registry entry for `name`; E_CONFIG listing the known names otherwise. */
export function getModel(name: string): ModelEntry {
  if (isKnownModel(name)) return MODELS[name];
  const known = Object.keys(MODELS).join(', ');
  throw E.CONFIG(`unknown model "${name}": expected one of ${known}`, {
    hint: 'only registry models can be fetched by name; a bundle folder of your own is passed to the worker with --model (docs/MODELS.md)',
    context: { model: name },
  });
}

/**
 * The URL of a remote file: from `baseUrl` (the CLI passes --base-url or
 * $ROBERTA_BATCH_MODEL_MIRROR, src/shared/flags.ts), else the source's default base. A base may carry a path prefix (`https://mirror.local/models`);
 * trailing slashes are ignored.
 */
export function resolveUrl(file: RemoteFile, baseUrl?: string): string {
  const override = nonEmpty(baseUrl);
  const base = override ?? DEFAULT_BASE_URLS[file.source];
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch (cause) {
    throw E.CONFIG(`model mirror "${base}" is not a URL`, {
      hint: `set ${MODEL_MIRROR_ENV} (or the baseUrl option) to an http(s) URL such as https://mirror.example/roberta`,
      cause,
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw E.CONFIG(`model mirror "${base}": expected an http: or https: URL`, {
      hint: 'to install from files already on disk, copy the bundle folder to models/<name>/ instead (docs/MODELS.md)',
    });
  }
  return `${base.replace(/\/+$/, '')}/${file.path.replace(/^\/+/, '')}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
