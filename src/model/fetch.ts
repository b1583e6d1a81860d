/**
 * Model bundles: a registry model (or a custom entry of the same shape) downloaded into
 * `<dir>/<name>/` with the layout `worker --model` expects (docs/MODELS.md). The downloads
 * themselves (resume, retries, sha256) are src/model/download.ts.
 */
import path from 'node:path';
import { RobertaBatchError } from '../shared/errors.js';
import { downloadFile, type DownloadProgress, type FetchLike } from './download.js';
import {
  BUNDLE_FILES,
  getModel,
  resolveUrl,
  type ModelEntry,
  type ModelTask,
  type RemoteFile,
} from './registry.js';

export interface FetchModelOptions {
  /** Parent folder of bundles; the bundle goes to `<dir>/<name>/`. Default `models`. */
  dir?: string;
  /** Replaces every source's base URL (see registry.ts); beats $ROBERTA_BATCH_MODEL_MIRROR. */
  baseUrl?: string;
  /** Called for every file with its own counts; `file` is the bundle file name. */
  onProgress?: (p: DownloadProgress & { file: string }) => void;
  signal?: AbortSignal;
  fetchImpl?: FetchLike;
  retryDelaysMs?: readonly number[];
}

export interface ModelBundle {
  name: string;
  task: ModelTask;
  /** The bundle folder: what `worker --model` is pointed at. */
  dir: string;
  model: string;
  /** tokenizer.json, or vocab.json + merges.txt when tokenizer.json could not be fetched. */
  tokenizer: { json: string } | { vocab: string; merges: string };
  /** Files actually downloaded by this call (skipped ones are not listed). */
  downloaded: string[];
}

/**
 * Downloads a registry model (or a custom entry with the same shape, e.g. a privately hosted
 * build with its own hash) into `<dir>/<name>/`: model.onnx, then tokenizer.json, falling back
 * to vocab.json + merges.txt when tokenizer.json cannot be fetched.
 */
export async function fetchModel(model: string | ModelEntry, options: FetchModelOptions = {}): Promise<ModelBundle> {
  const entry = typeof model === 'string' ? getModel(model) : model;
  const bundleDir = path.join(options.dir ?? 'models', entry.name);
  const downloaded: string[] = [];

  const get = async (file: RemoteFile, name: string): Promise<string> => {
    const dest = path.join(bundleDir, name);
    const r = await downloadFile({
      url: resolveUrl(file, options.baseUrl),
      dest,
      expectedSize: file.size,
      sha256: file.sha256,
      onProgress: options.onProgress && ((p) => options.onProgress?.({ ...p, file: name })),
      signal: options.signal,
      fetchImpl: options.fetchImpl,
      retryDelaysMs: options.retryDelaysMs,
    });
    if (!r.skipped) downloaded.push(dest);
    return dest;
  };

  const modelPath = await get(entry.model, BUNDLE_FILES.model);
  let tokenizer: ModelBundle['tokenizer'];
  try {
    tokenizer = { json: await get(entry.tokenizer.json, BUNDLE_FILES.tokenizerJson) };
  } catch (err) {
    if (options.signal?.aborted || !(err instanceof RobertaBatchError)) throw err;
    // The `tokenizers` package also loads the slow-tokenizer pair; a mirror may carry only those.
    try {
      tokenizer = {
        vocab: await get(entry.tokenizer.vocab, BUNDLE_FILES.vocab),
        merges: await get(entry.tokenizer.merges, BUNDLE_FILES.merges),
      };
    } catch (fallbackErr) {
      if (fallbackErr instanceof RobertaBatchError) {
        throw new RobertaBatchError(fallbackErr.code, `no tokenizer for ${entry.name}: tokenizer.json failed (${err.message}), and so did the vocab.json + merges.txt fallback (${fallbackErr.message})`, {
          hint: fallbackErr.hint,
          cause: fallbackErr,
          context: { ...fallbackErr.context, model: entry.name },
        });
      }
      throw fallbackErr;
    }
  }
  return { name: entry.name, task: entry.task, dir: bundleDir, model: modelPath, tokenizer, downloaded };
}
