/**
 * The model `roberta-batch run` uses when none is given: the fetched zoo model if present,
 * else a tiny generated one (random weights: meaningless scores, a loud warning) so that the
 * pipeline can be tried on a fresh machine with no download.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { logger } from '../shared/logger.js';
import type { Task } from '../shared/types.js';
import { generateModel } from './generate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The byte-level BPE vocabulary the project trains on its own sample text (2k tokens). */
export const SAMPLE_TOKENIZER_DIR = path.join(repoRoot, 'models/sample-tokenizer');

export const ZOO_DEFAULTS: Record<Task, string> = {
  sentiment: 'roberta-sequence-classification-9',
  embed: 'roberta-base-11',
};

export async function defaultModelFor(task: Task, modelsDir = path.join(repoRoot, 'models')): Promise<{ model: string; generated: boolean }> {
  const zoo = path.join(modelsDir, ZOO_DEFAULTS[task]);
  if (existsSync(path.join(zoo, 'model.onnx'))) return { model: zoo, generated: false };
  const dir = path.join(modelsDir, 'cache', `quickstart-${task}`);
  const file = path.join(dir, 'model.onnx');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    await generateModel({ preset: 'tiny', head: task === 'sentiment' ? 'sequence-classification' : 'base', signature: 'hf', seed: 42, out: file });
    for (const f of ['tokenizer.json', 'vocab.json', 'merges.txt']) copyFileSync(path.join(SAMPLE_TOKENIZER_DIR, f), path.join(dir, f));
  }
  logger().warn(
    { model: dir },
    `no fetched model in ${zoo}: using a GENERATED test model with random weights — its scores are meaningless. ` +
      `Run \`roberta-batch models fetch ${ZOO_DEFAULTS[task]}\` for real ${task === 'sentiment' ? 'sentiment scores' : 'embeddings'}.`,
  );
  return { model: dir, generated: true };
}
