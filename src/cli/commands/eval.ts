import { Command } from 'commander';
import { givenFields, parseConfig, workerSchema, type WorkerConfig } from '../../shared/config.js';
import { CONNECTION, EVAL, INPUT, PIPELINE, REPORT, WORKER, schemaOf, variant } from '../../shared/flags.js';
import { logger } from '../../shared/logger.js';
import { runProgress, showModelBanner } from '../output.js';
import { abortOnShutdownSignal } from '../signals.js';
import { addFlags, only, pick, readerOptions, runCommand } from '../options.js';

/** Embedding-only flags make no sense for a sentiment evaluation. */
const { task: _task, pooling: _pooling, normalize: _normalize, ...EVAL_WORKER } = WORKER;
const EVAL_FLAGS = {
  ...EVAL,
  json: variant(REPORT.json, { help: 'print the report as JSON instead of a table' }),
  workers: PIPELINE.workers,
  docsPerJob: variant(PIPELINE.docsPerJob, { defaultHelp: '1' }),
  ...INPUT, ...CONNECTION, ...EVAL_WORKER,
  model: variant(WORKER.model, { required: false, help: 'sentiment ONNX model file or folder', defaultHelp: 'models/roberta-sequence-classification-9 if fetched, else a generated test model' }),
  // Several workers in one process, each its own server: any free port, whatever RB_METRICS_PORT a worker host sets.
  metricsPort: variant(WORKER.metricsPort, { default: 0, env: undefined }),
};
const evalSchema = schemaOf(EVAL_FLAGS);

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('Score a labelled file with a sentiment model through the normal pipeline (queue, batcher, results) and report accuracy, macro-F1, Matthews correlation and the confusion matrix. Gold labels are label names (case-insensitive) or 0-based indexes into them; rows with other labels are excluded and counted (docs/EVALUATION.md).');
  addFlags(cmd, EVAL_FLAGS);
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      // Every flag checked before anything starts (a default model may be generated next).
      const given = pick(opts, EVAL_FLAGS);
      const c = parseConfig(evalSchema, given);
      // Loaded once the flags are valid: a usage error or --help never pays for the pipeline.
      const [{ defaultModelFor }, { evaluateFile }, { formatReport }] = await Promise.all([
        import('../../model/quickstart.js'), import('../../eval/evaluate.js'), import('../../eval/report.js'),
      ]);
      let model = c.model;
      let generated = false;
      if (!model) ({ model, generated } = await defaultModelFor('sentiment'));
      const config = Object.freeze({ ...only(c, workerSchema.shape), task: 'sentiment', pooling: WORKER.pooling.default, normalize: WORKER.normalize.default, model }) as WorkerConfig;
      // First signal: stop reading, finish the jobs in flight, clean up (queues, temporary files,
      // a private redis-server) and exit 1 with E_SHUTDOWN; a second one ends the process at once.
      const shutdown = abortOnShutdownSignal();
      const progress = runProgress('eval');
      const running = shutdown.track(evaluateFile({
        signal: shutdown.signal,
        onProgress: progress?.update,
        data: c.data,
        labelField: c.labelField,
        reader: readerOptions(c),
        predictionsOut: c.predictions,
        workers: c.workers,
        docsPerJob: c.docsPerJob ?? 1,
        // Unnamed: 127.0.0.1:6379, else a private redis-server.
        redisUrl: givenFields(evalSchema, given).has('redisUrl') ? c.redisUrl : undefined,
        worker: config,
      }));
      const report = await running.finally(() => progress?.finish());
      if (generated) showModelBanner();
      process.stdout.write(c.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      logger().flush?.();
      return 0;
    }),
  );
  return cmd;
}
