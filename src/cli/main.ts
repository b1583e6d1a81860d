#!/usr/bin/env node
/**
 * roberta-batch: bulk RoBERTa inference over BullMQ. Each command parses its flags and calls
 * the library under src/producer, src/worker, src/pipeline and src/model.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { benchCommand } from './commands/bench.js';
import { chaosCommand } from './commands/chaos.js';
import { soakCommand } from './commands/soak.js';
import { enqueueCommand } from './commands/enqueue.js';
import { evalCommand } from './commands/eval.js';
import { modelsCommand } from './commands/models.js';
import { reconcileCommand } from './commands/reconcile.js';
import { resultsCommand } from './commands/results.js';
import { runCommandDef } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('roberta-batch')
  .description('Bulk RoBERTa inference (sentiment, embeddings) over Redis/BullMQ with dynamic batching on onnxruntime')
  .version(pkg.version)
  .showHelpAfterError();

program.addCommand(runCommandDef());
program.addCommand(enqueueCommand());
program.addCommand(workerCommand());
program.addCommand(resultsCommand());
program.addCommand(modelsCommand());
program.addCommand(evalCommand());
program.addCommand(benchCommand());
program.addCommand(statusCommand());
program.addCommand(reconcileCommand());
program.addCommand(chaosCommand());
program.addCommand(soakCommand());

await program.parseAsync(process.argv);
