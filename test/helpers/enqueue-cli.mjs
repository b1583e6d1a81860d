// Fallback CLI entry for tests while dist/cli/main.js cannot load (another command still in
// progress): the same `enqueue` command, mounted on a bare program.
import { Command } from 'commander';
import { enqueueCommand } from '../../dist/cli/commands/enqueue.js';

const program = new Command('roberta-batch');
program.addCommand(enqueueCommand());
await program.parseAsync(process.argv);
