/**
 * Start-up checks that need the model file itself (not a session): which tokenizer goes
 * with it, the maximum sequence length from its position table, and whether the tokenizer's
 * ids fit its embedding table (an id past the table makes onnxruntime fail the whole batch).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { E } from '../shared/errors.js';
import { readOnnxSummary } from '../model/summary.js';
import { RobertaTokenizer } from '../model/tokenizer.js';

/** RoBERTa's position table has max_length + 2 rows: positions start after padding_idx 1. */
const POSITION_OFFSET = 2;
const DEFAULT_MAX_LENGTH = 512;

export interface ModelShape {
  vocabRows?: number;
  maxLength: number;
  /** See OnnxSummary.int8WeightMaxCode. */
  int8WeightMaxCode?: number;
}

export async function readModelShape(modelFile: string, configuredMaxLength?: number): Promise<ModelShape> {
  // Same checks and codes as the engine's (model/model-file.ts): a file that fails them fails here first.
  const summary = await readOnnxSummary(modelFile);
  const fromModel = summary?.positionEmbeddingRows ? summary.positionEmbeddingRows - POSITION_OFFSET : undefined;
  if (configuredMaxLength && fromModel && configuredMaxLength > fromModel) {
    throw E.CONFIG(`--max-length ${configuredMaxLength} is over the model's ${fromModel} positions`, {
      hint: `use --max-length ${fromModel} or less`,
    });
  }
  return { vocabRows: summary?.wordEmbeddingRows, maxLength: configuredMaxLength ?? fromModel ?? DEFAULT_MAX_LENGTH, int8WeightMaxCode: summary?.int8WeightMaxCode };
}

function hasTokenizerFiles(dir: string): boolean {
  return existsSync(path.join(dir, 'tokenizer.json')) || (existsSync(path.join(dir, 'vocab.json')) && existsSync(path.join(dir, 'merges.txt')));
}

/** --tokenizer if given, else the model's own folder. */
export function tokenizerDirFor(modelFile: string, configured?: string): string {
  const dir = configured
    ? (configured.endsWith('.json') ? path.dirname(configured) : configured)
    : path.dirname(modelFile);
  if (!hasTokenizerFiles(dir)) {
    throw E.TOKENIZER(`no tokenizer.json or vocab.json + merges.txt in ${dir}`, {
      hint: configured
        ? 'point --tokenizer at a folder holding tokenizer.json (or vocab.json and merges.txt)'
        : 'put the tokenizer files next to the model (`roberta-batch models fetch` does) or pass --tokenizer DIR',
      context: { dir },
    });
  }
  return dir;
}

export async function loadWorkerTokenizer(modelFile: string, opts: { tokenizer?: string; maxLength?: number }): Promise<{ tokenizer: RobertaTokenizer; shape: ModelShape }> {
  const shape = await readModelShape(modelFile, opts.maxLength);
  const dir = tokenizerDirFor(modelFile, opts.tokenizer);
  let tokenizer: RobertaTokenizer;
  try {
    tokenizer = await RobertaTokenizer.fromDir(dir, { maxLength: shape.maxLength });
  } catch (err) {
    throw E.TOKENIZER(`cannot load the tokenizer in ${dir}: ${(err as Error).message}`, {
      hint: 'the files must be a Hugging Face tokenizer.json or RoBERTa vocab.json + merges.txt',
      cause: err,
    });
  }
  if (shape.vocabRows !== undefined && tokenizer.vocabSize > shape.vocabRows) {
    throw E.MODEL_VOCAB_MISMATCH(`the tokenizer in ${dir} has ${tokenizer.vocabSize} tokens but ${modelFile} embeds only ${shape.vocabRows}`, {
      hint: 'use the tokenizer that was trained with this model (e.g. the one `roberta-batch models fetch` puts next to it)',
    });
  }
  return { tokenizer, shape };
}
