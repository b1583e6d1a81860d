import { Command, Option } from 'commander';
import { parseConfig, pipelineSchema, workerSchema } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { runProgress, showModelBanner } from '../output.js';
import { abortOnShutdownSignal } from '../signals.js';
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
    .addOption(new Option('--workers <n>', 'worker instances (default 1) [env RB_WORKERS]'))
    .addOption(new Option('--docs-per-job <n>', 'documents packed into one job (default 1) [env RB_DOCS_PER_JOB]'));
  addFlags(cmd, [...INPUT_FLAGS, MAX_JOB_BYTES_FLAG, ...CONNECTION_FLAGS, ...EVAL_WORKER_FLAGS]);
  cmd.addOption(new Option('--model <path>', 'sentiment ONNX model file or folder (default: models/roberta-sequence-classification-9 if fetched, else a generated test model) [env RB_MODEL]'));
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const sizes = parseConfig(pipelineSchema, { workers: opts.workers, docsPerJob: opts.docsPerJob });
      let model = (opts.model as string | undefined) ?? process.env.RB_MODEL;
      let generated = false;
      if (!model) ({ model, generated } = await defaultModelFor('sentiment'));
      const flags = { ...pick(opts, [...CONNECTION_FLAGS, ...EVAL_WORKER_FLAGS]), task: 'sentiment', model, metricsPort: opts.metricsPort ?? 0 };
      const config = parseConfig(workerSchema, flags);
      // First signal: stop reading, finish the jobs in flight, clean up (queues, temporary files,
      // a private redis-server) and exit 1 with E_SHUTDOWN; a second one ends the process at once.
      const shutdown = abortOnShutdownSignal();
      const progress = runProgress('eval');
      const running = shutdown.track(evaluateFile({
        signal: shutdown.signal,
        onProgress: progress?.update,
        data: String(opts.data),
        labelField: String(opts.labelField),
        reader: readerOptionsFrom(opts),
        predictionsOut: opts.predictions as string | undefined,
        workers: sizes.workers,
        docsPerJob: sizes.docsPerJob ?? 1,
        redisUrl: (opts.redisUrl as string | undefined) ?? process.env.REDIS_URL,
        worker: config,
      }));
      const report = await running.finally(() => progress?.finish());
      if (generated) showModelBanner();
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      logger().flush?.();
      return 0;
    }),
  );
  return cmd;
}
