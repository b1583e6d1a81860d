import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { parseConfig } from '../../shared/config.js';
import { MODELS, REPORT, schemaOf, variant } from '../../shared/flags.js';
import { fetchModel } from '../../model/fetch.js';
import { stderrProgress } from '../download-progress.js';
import { generateModel } from '../../model/generate.js';
import { SAMPLE_TOKENIZER_DIR } from '../../model/quickstart.js';
import { quantizeFile } from '../../model/quantize.js';
import { listModels } from '../../model/registry.js';
import { readOnnxSummary } from '../../model/summary.js';
import { resolveModelFile } from '../../model/model-file.js';
import { OnnxEngine } from '../../worker/engine.js';
import { addFlags, pick, runCommand } from '../options.js';

const FETCH = { dir: MODELS.dir, baseUrl: MODELS.baseUrl };
const GENERATE = { preset: MODELS.preset, head: MODELS.head, signature: MODELS.signature, seed: MODELS.seed, out: MODELS.out };
const QUANTIZE = { int8: MODELS.int8 };
const INSPECT = { json: variant(REPORT.json, { help: 'print JSON' }) };
const fetchSchema = schemaOf(FETCH);
const generateSchema = schemaOf(GENERATE);
const inspectSchema = schemaOf(INSPECT);

export function modelsCommand(): Command {
  const models = new Command('models').description('Fetch, generate and inspect RoBERTa ONNX models');

  const fetch = models
    .command('fetch')
    .description(`Download a model bundle (model.onnx + tokenizer) into <dir>/<name>: resumable, sha256-verified. Known: ${listModels().map((m) => m.name).join(', ')}`)
    .argument('<name>', 'model name');
  addFlags(fetch, FETCH)
    .action((name: string, flags: Record<string, unknown>) =>
      runCommand(async () => {
        const opts = parseConfig(fetchSchema, pick(flags, FETCH));
        const b = await fetchModel(name, { dir: opts.dir, baseUrl: opts.baseUrl, onProgress: stderrProgress() });
        process.stdout.write(`${b.name}: ${b.model} (${b.downloaded.length ? `downloaded ${b.downloaded.length} files` : 'already complete'})\n`);
      }),
    );

  const generate = models
    .command('generate')
    .description('Write a RoBERTa-architecture ONNX model with deterministic RANDOM weights (scores are meaningless: for tests and benchmarks)');
  addFlags(generate, GENERATE)
    .action((flags: Record<string, unknown>) =>
      runCommand(async () => {
        const opts = parseConfig(generateSchema, pick(flags, GENERATE));
        const t0 = performance.now();
        const asFolder = !opts.out.endsWith('.onnx');
        const g = await generateModel({
          preset: opts.preset, head: opts.head, signature: opts.signature,
          seed: opts.seed, out: asFolder ? path.join(opts.out, 'model.onnx') : opts.out,
        });
        if (asFolder) {
          for (const f of ['tokenizer.json', 'vocab.json', 'merges.txt']) copyFileSync(path.join(SAMPLE_TOKENIZER_DIR, f), path.join(opts.out, f));
        }
        process.stdout.write(`${g.path}: ${(g.bytes / 1e6).toFixed(1)} MB, sha256 ${g.sha256}, ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
          'random weights: scores are meaningless (for tests and benchmarks)\n');
      }),
    );

  const quantize = models
    .command('quantize')
    .description('Write an int8 copy of a float32 model: MatMul weights as com.microsoft DynamicQuantizeMatMul (activations quantized per batch at run time), embedding tables int8; ~1/4 of the size')
    .argument('<in>', 'float32 ONNX file or model folder')
    .argument('<out>', 'destination .onnx file');
  addFlags(quantize, QUANTIZE)
    .action((input: string, out: string) =>
      runCommand(async () => {
        const t0 = performance.now();
        const q = await quantizeFile(await resolveModelFile(input), out);
        process.stdout.write(`${q.path}: ${(q.bytesOut / 1e6).toFixed(1)} MB (from ${(q.bytesIn / 1e6).toFixed(1)} MB), ` +
          `${q.matmuls} MatMul -> DynamicQuantizeMatMul (${q.biasesFolded} biases folded), ${q.gathers} embedding tables int8, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      }),
    );

  const inspect = models
    .command('inspect')
    .description('Print the signature the engine detects (inputs, outputs, task, vocabulary and position rows)')
    .argument('<file>', 'ONNX file or model folder');
  addFlags(inspect, INSPECT)
    .action((file: string, flags: Record<string, unknown>) =>
      runCommand(async () => {
        const opts = parseConfig(inspectSchema, pick(flags, INSPECT));
        const f = await resolveModelFile(file);
        const engine = await OnnxEngine.open(f, { device: { kind: 'cpu' }, graphOptimization: 'disabled', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
        const summary = await readOnnxSummary(f).catch(() => undefined);
        await engine.close();
        const s = engine.info.signature;
        const report = {
          file: f,
          signature: s.kind,
          task: s.outputKind === 'classification' ? 'sentiment' : 'embed',
          inputs: s.inputs,
          outputs: s.outputs,
          numLabels: s.numLabels,
          hiddenSize: s.hiddenSize,
          vocabRows: summary?.wordEmbeddingRows,
          maxLength: summary?.positionEmbeddingRows ? summary.positionEmbeddingRows - 2 : undefined,
          generated: summary?.metadata?.['roberta_batch.generated'] === 'true',
        };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const fmt = (v: { name: string; type: string; shape: (number | string)[] }) => `${v.name} ${v.type} [${v.shape.join(', ')}]`;
        process.stdout.write([
          `${f}`,
          `  signature  ${s.kind}${s.kind === 'zoo' ? ' (token ids only, no attention mask: batches hold equal-length documents)' : ' (with attention_mask)'}`,
          `  task       ${report.task} (${s.outputKind}${s.numLabels ? `, ${s.numLabels} labels` : ''}${s.hiddenSize ? `, hidden ${s.hiddenSize}` : ''})`,
          `  inputs     ${s.inputs.map(fmt).join('; ')}`,
          `  outputs    ${s.outputs.map(fmt).join('; ')}`,
          `  vocab rows ${report.vocabRows ?? 'unknown'}, max length ${report.maxLength ?? 'unknown'}`,
          report.generated ? '  GENERATED by roberta-batch: random weights, meaningless scores' : '',
          '',
        ].filter((l) => l !== '').join('\n') + '\n');
      }),
    );
  return models;
}
