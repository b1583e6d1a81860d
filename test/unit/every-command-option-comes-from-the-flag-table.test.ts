/**
 * Every option of every command is built from one entry of src/shared/flags.ts, so its help
 * shows the default the schema applies and names the variable parseConfig reads: a default or
 * a help text written a second time by hand would fail here.
 */
import { Command, type Option } from 'commander';
import { expect, it } from 'vitest';
import { parseConfig, workerSchema } from '../../src/shared/config.js';
import { OUTPUT, PRODUCER, WORKER, WINDOW_FACTOR, helpText, longFlag } from '../../src/shared/flags.js';
import { enqueueSchema } from '../../src/producer/options.js';
import { ENQUEUE_DEFAULTS } from '../../src/producer/enqueue.js';
import { addFlags, entryOfOption } from '../../src/cli/options.js';
import { benchCommand } from '../../src/cli/commands/bench.js';
import { chaosCommand } from '../../src/cli/commands/chaos.js';
import { enqueueCommand } from '../../src/cli/commands/enqueue.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { modelsCommand } from '../../src/cli/commands/models.js';
import { reconcileCommand } from '../../src/cli/commands/reconcile.js';
import { resultsCommand } from '../../src/cli/commands/results.js';
import { runCommandDef } from '../../src/cli/commands/run.js';
import { soakCommand } from '../../src/cli/commands/soak.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { workerCommand } from '../../src/cli/commands/worker.js';

const program = new Command('roberta-batch');
addFlags(program, OUTPUT);
for (const make of [benchCommand, chaosCommand, enqueueCommand, evalCommand, modelsCommand, reconcileCommand, resultsCommand, runCommandDef, soakCommand, statusCommand, workerCommand]) program.addCommand(make());

function* commands(cmd: Command, name = cmd.name()): Generator<[string, Command]> {
  yield [name, cmd];
  for (const sub of cmd.commands) yield* commands(sub, `${name} ${sub.name()}`);
}

it('every commander option of every command is a table entry, with the help text built from it', () => {
  const seen: string[] = [];
  for (const [name, cmd] of commands(program)) {
    for (const opt of cmd.options as Option[]) {
      const entry = entryOfOption(opt);
      expect(entry, `${name} ${opt.flags}`).toBeDefined();
      expect(opt.flags).toBe(entry!.flag);
      expect(opt.description).toBe(helpText(entry!));
      expect(opt.long).toBe(longFlag(entry!));
      if (entry!.env) expect(opt.description).toContain(`[env ${entry!.env}]`);
      if (entry!.default !== undefined && typeof entry!.default !== 'boolean' && entry!.defaultHelp === undefined) {
        expect(opt.description).toContain(`(default ${String(entry!.default)})`);
      }
      seen.push(`${name} ${opt.long}`);
    }
  }
  // Every command was walked, the models subcommands included.
  for (const c of ['roberta-batch --log-format', 'roberta-batch worker --gpus', 'roberta-batch run --workers', 'roberta-batch eval --data', 'roberta-batch bench --ceiling-runs',
    'roberta-batch chaos --kills', 'roberta-batch soak --maxmemory', 'roberta-batch enqueue --keep-done-days', 'roberta-batch reconcile --requeue',
    'roberta-batch results --follow', 'roberta-batch status --run', 'roberta-batch models generate --seed', 'roberta-batch models fetch --base-url', 'roberta-batch models quantize --int8']) {
    expect(seen).toContain(c);
  }
});

it('a default is one literal: --help, the schema and the producer defaults agree', () => {
  const worker = [...commands(program)].find(([n]) => n === 'roberta-batch worker')![1];
  const help = (long: string) => (worker.options as Option[]).find((o) => o.long === long)!.description;
  expect(help('--max-batch-size')).toMatch(/\(default 32\) \[env RB_MAX_BATCH_SIZE\]$/);
  expect(help('--concurrency')).toContain(`0 = ${WINDOW_FACTOR} x max-batch-size`);
  const defaults = parseConfig(workerSchema, { model: 'm' }, {});
  expect(defaults.maxBatchSize).toBe(WORKER.maxBatchSize.default);
  expect(defaults.device).toEqual({ kind: 'cpu' });
  expect(defaults.maxDocBytes).toBe(ENQUEUE_DEFAULTS.maxDocBytes);
  expect(parseConfig(enqueueSchema, {}, {}).maxDocBytes).toBe(ENQUEUE_DEFAULTS.maxDocBytes);
  expect(ENQUEUE_DEFAULTS.chunkSize).toBe(PRODUCER.chunkSize.default);
});

it('the tool commands read no variable: RB_WORKERS (for `run`) does not change `chaos --workers`', () => {
  const chaos = [...commands(program)].find(([n]) => n === 'roberta-batch chaos')![1];
  for (const opt of chaos.options as Option[]) expect(entryOfOption(opt)!.env, opt.flags).toBeUndefined();
});
