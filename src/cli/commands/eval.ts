import { Command, Option } from 'commander';
import { parseConfig, workerSchema } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { defaultModelFor } from '../../model/quickstart.js';
import { evaluateFile } from '../../eval/evaluate.js';
import { formatReport } from '../../eval/report.js';
import { CONNECTION_FLAGS, INPUT_FLAGS, MAX_JOB_BYTES_FLAG, WORKER_FLAGS, addFlags, pick, readerOptionsFrom, runCommand } from '../options.js';

/** Embedding-only flags make no sense for a sentiment evaluation. */
const EVAL_WORKER_FLAGS = WORKER_FLAGS.filter(([f]) => !['task', 'pooling', 'normalize', 'model'].includes(f));

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('Score a labelled file with a sentiment model through the normal pipeline (queue, batcher, results) and report accuracy, macro-F1, Matthews correlation and the confusion matrix. Gold labels are label names (case-insensitive) or 0-based indexes into them; rows with other labels are excluded and counted (docs/EVALUATION.md).')
    .requiredOption('--data <file>', 'labelled JSON Lines or CSV file')
    .requiredOption('--label-field <name>', 'field holding the gold label')
    .option('--json', 'print the report as JSON instead of a table')
    .option('--predictions <file>', 'keep the per-document predictions (JSON Lines) in this file')
    .addOption(new Option('--workers <n>', 'worker instances').default('1'))
    .addOption(new Option('--docs-per-job <n>', 'documents packed into one job').default('1'));
  addFlags(cmd, [...INPUT_FLAGS, MAX_JOB_BYTES_FLAG, ...CONNECTION_FLAGS, ...EVAL_WORKER_FLAGS]);
  cmd.addOption(new Option('--model <path>', 'sentiment ONNX model file or folder (default: models/roberta-sequence-classification-9 if fetched, else a generated test model) [env RB_MODEL]'));
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const model = (opts.model as string | undefined) ?? process.env.RB_MODEL ?? (await defaultModelFor('sentiment')).model;
      const flags = { ...pick(opts, [...CONNECTION_FLAGS, ...EVAL_WORKER_FLAGS]), task: 'sentiment', model, metricsPort: opts.metricsPort ?? 0 };
      const config = parseConfig(workerSchema, flags);
      const report = await evaluateFile({
        data: String(opts.data),
        labelField: String(opts.labelField),
        reader: readerOptionsFrom(opts),
        predictionsOut: opts.predictions as string | undefined,
        workers: Math.max(1, Number(opts.workers)),
        docsPerJob: Math.max(1, Number(opts.docsPerJob)),
        redisUrl: (opts.redisUrl as string | undefined) ?? process.env.REDIS_URL,
        worker: config,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      logger().flush?.();
      return 0;
    }),
  );
  return cmd;
}
