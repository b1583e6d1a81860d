/**
 * `roberta-batch eval`: scores a labelled file through the same pipeline users run
 * (runPipeline: Redis queue → workers → dynamic batcher → results queue → export), then joins
 * the predictions with the gold labels by document id and computes the metrics.
 *
 * Every row is scored, also those whose gold label the model cannot produce (`neutral` for a
 * 2-label model): the label names are known for sure only from the model's output, and the
 * extra cost is bounded by the file. Such rows are then excluded from the metrics and counted.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { E, RobertaBatchError } from '../shared/errors.js';
import type { OkRecord } from '../shared/types.js';
import { runPipeline, type RunOptions, type RunSummary } from '../pipeline/run.js';
import { readFile, type ReaderOptions } from '../producer/readers.js';
import { labelsFor } from '../worker/postprocess.js';
import { goldLabelKey, mapGoldLabel } from './labels.js';
import { addPair, classificationMetrics, emptyConfusionMatrix, type ClassificationMetrics, type ConfusionMatrix } from './metrics.js';

export interface EvalOptions {
  data: string;
  /** Field (JSON Lines key or CSV column) holding the gold label. */
  labelField: string;
  reader: RunOptions['reader'];
  /** Keep the per-document predictions (JSON Lines) here; default: a temporary file, removed. */
  predictionsOut?: string;
  workers: number;
  docsPerJob: number;
  redisUrl?: string;
  worker: RunOptions['worker'];
  /** Aborting stops the run; its queues and the temporary folder are removed all the same. */
  signal?: AbortSignal;
  onProgress?: RunOptions['onProgress'];
}

export interface EvalReport {
  data: string;
  labelField: string;
  model: RunSummary['model'];
  /** The model's label names, in logit order. */
  labels: string[];
  rows: {
    /** Documents read from the file. */
    read: number;
    /** Lines the reader rejected (no id, broken CSV quoting, ...). */
    unreadable: number;
    /** Rows in the metrics: a mapped gold label and a prediction. */
    scored: number;
    /** Rows whose gold label is not one of `labels`. */
    excluded: number;
    /** Rows with a mapped gold label but no prediction (failed documents). */
    failed: number;
  };
  /** Excluded rows by gold label as written in the file. */
  excludedByLabel: Record<string, number>;
  confusion: ConfusionMatrix;
  metrics: ClassificationMetrics;
  elapsedSeconds: number;
  documentsPerSecond: number;
  predictions?: string;
}

async function readGold(opts: EvalOptions): Promise<{ gold: Map<string, unknown>; unreadable: number }> {
  const gold = new Map<string, unknown>();
  let unreadable = 0;
  for await (const item of readFile(opts.data, opts.reader)) {
    if (item.doc) gold.set(item.doc.id, item.doc.meta?.[opts.labelField]);
    else unreadable++;
  }
  if (!gold.size) {
    throw E.INPUT_INVALID(`${opts.data}: no documents could be read`, { hint: 'check --format, --id-field, --text-field (or --auto-id)' });
  }
  if ([...gold.values()].every((v) => v === undefined)) {
    throw E.INPUT_INVALID(`${opts.data}: no row has a "${opts.labelField}" field`, { hint: 'name the gold label column with --label-field' });
  }
  return { gold, unreadable };
}

async function readPredictions(file: string): Promise<{ predicted: Map<string, string>; numLabels: number | undefined }> {
  const predicted = new Map<string, string>();
  let numLabels: number | undefined;
  const rl = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as OkRecord;
    if (rec.status !== 'ok' || !rec.sentiment) continue;
    predicted.set(rec.id, rec.sentiment.label);
    numLabels ??= rec.sentiment.logits.length;
  }
  return { predicted, numLabels };
}

export async function evaluateFile(opts: EvalOptions): Promise<EvalReport> {
  const { gold, unreadable } = await readGold(opts);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'rb-eval-'));
  try {
    const out = opts.predictionsOut ?? path.join(tmp, 'predictions.jsonl');
    const run = await runPipeline({
      input: opts.data, out, errorsOut: opts.predictionsOut ? undefined : path.join(tmp, 'errors.jsonl'),
      workers: opts.workers, keepQueues: false, reader: opts.reader, docsPerJob: opts.docsPerJob,
      redisUrl: opts.redisUrl, worker: { ...opts.worker, task: 'sentiment' },
      signal: opts.signal, onProgress: opts.onProgress,
    }).catch((err: unknown) => {
      if (err instanceof RobertaBatchError && err.code === 'E_SHUTDOWN') {
        throw E.SHUTDOWN(`eval of ${opts.data} interrupted: no report (its queues and temporary files were removed)`, {
          hint: 'run the same command again; it starts over',
        });
      }
      throw err;
    });
    const { predicted, numLabels } = await readPredictions(out);
    if (numLabels === undefined) {
      throw E.INFERENCE(`no document of ${opts.data} was scored (${run.failed} failed)`, { hint: `see ${run.errorsOut} for the reasons`, context: run.failuresByCode });
    }
    const labels = labelsFor(numLabels, opts.worker.labels);
    const confusion = emptyConfusionMatrix(labels);
    const excludedByLabel: Record<string, number> = {};
    let excluded = 0;
    let failed = 0;
    for (const [id, raw] of gold) {
      const g = mapGoldLabel(raw, labels);
      if (g === undefined) {
        excluded++;
        const key = goldLabelKey(raw);
        excludedByLabel[key] = (excludedByLabel[key] ?? 0) + 1;
        continue;
      }
      const p = predicted.get(id);
      if (p === undefined) failed++;
      else addPair(confusion, g, p);
    }
    const metrics = classificationMetrics(confusion);
    if (metrics.n === 0) {
      throw E.INPUT_INVALID(`${opts.data}: no row's "${opts.labelField}" is one of the model's labels ${labels.join(', ')} (seen: ${Object.keys(excludedByLabel).slice(0, 10).join(', ')})`, {
        hint: 'gold labels must be label names or 0-based indexes into them; name the model\'s labels with --labels',
      });
    }
    return {
      data: opts.data, labelField: opts.labelField, model: run.model, labels,
      rows: { read: gold.size, unreadable, scored: metrics.n, excluded, failed },
      excludedByLabel, confusion, metrics,
      elapsedSeconds: run.elapsedSeconds, documentsPerSecond: run.documentsPerSecond,
      predictions: opts.predictionsOut,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
