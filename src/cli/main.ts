#!/usr/bin/env node
/**
 * roberta-batch: bulk RoBERTa inference over BullMQ. Each command parses its flags and calls
 * the library under src/producer, src/worker, src/pipeline and src/model.
 *
 * Only the command being run is loaded (`--help` without a command loads them all to list them),
 * and each command imports its implementation (BullMQ, onnxruntime, bull-board, arrow,
 * parquet-wasm...) only once its flags are valid: `--help` and usage errors stay cheap.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { OUTPUT } from '../shared/flags.js';
import { addFlags, exitTwoOnUsageErrors } from './flag-options.js';
import type { OutputFlags } from './output.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommandDef(),
  enqueue: async () => (await import('./commands/enqueue.js')).enqueueCommand(),
  worker: async () => (await import('./commands/worker.js')).workerCommand(),
  results: async () => (await import('./commands/results.js')).resultsCommand(),
  models: async () => (await import('./commands/models.js')).modelsCommand(),
  eval: async () => (await import('./commands/eval.js')).evalCommand(),
  bench: async () => (await import('./commands/bench.js')).benchCommand(),
  status: async () => (await import('./commands/status.js')).statusCommand(),
  reconcile: async () => (await import('./commands/reconcile.js')).reconcileCommand(),
  chaos: async () => (await import('./commands/chaos.js')).chaosCommand(),
  soak: async () => (await import('./commands/soak.js')).soakCommand(),
};

// `status | head -1`: the reader went away, nothing more can be said. End quietly, as cat does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command('roberta-batch')
  .description('Bulk RoBERTa inference (sentiment, embeddings) over Redis/BullMQ with dynamic batching on onnxruntime')
  .version(pkg.version)
  .showHelpAfterError();
addFlags(program, OUTPUT);

const args = process.argv.slice(2);
const named = args.find((a) => Object.hasOwn(COMMANDS, a));
const versionOnly = !named && args.some((a) => a === '--version' || a === '-V');
if (!versionOnly) {
  for (const cmd of await Promise.all((named ? [named] : Object.keys(COMMANDS)).map((n) => COMMANDS[n]()))) {
    // `<command> --help` lists --log-format, --quiet and --verbose too.
    program.addCommand(cmd.configureHelp({ showGlobalOptions: true }));
  }
}
// Unknown options, missing arguments: exit 2 like any invalid configuration, in every command.
exitTwoOnUsageErrors(program);
program.hook('preAction', async (_program, action) => {
  const { configureOutput } = await import('./output.js');
  const { runCommand } = await import('./options.js');
  try {
    configureOutput(program.opts<OutputFlags>());
    // rediss:// settings of every connection the command opens (flags or REDIS_TLS_* variables).
    const { configureRedisTlsFrom } = await import('./redis-tls.js');
    configureRedisTlsFrom(action.opts());
  } catch (err) {
    await runCommand(() => Promise.reject(err));
  }
});

await program.parseAsync(process.argv);
