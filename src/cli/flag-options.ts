/**
 * Commander options from the flag table (src/shared/flags.ts): each option's spelling, help
 * text, default and variable come from its entry, and its value is validated by the schema
 * built from the same entries. Light on purpose: main.ts loads it for every command, `--version` too.
 */
import { Command, Option } from 'commander';
import { helpText, type FlagEntries, type FlagEntry } from '../shared/flags.js';

/** The entry of each option built here: the test that every option of every command has one reads it. */
const FROM_TABLE = new WeakMap<Option, FlagEntry>();

export function tableOption(entry: FlagEntry): Option {
  const opt = new Option(entry.flag, helpText(entry));
  if (entry.required) opt.makeOptionMandatory();
  FROM_TABLE.set(opt, entry);
  return opt;
}

/** The table entry a commander option was built from (undefined: written by hand, which no command does). */
export function entryOfOption(opt: Option): FlagEntry | undefined {
  return FROM_TABLE.get(opt);
}

export function addFlags(cmd: Command, table: FlagEntries): Command {
  for (const entry of Object.values(table)) cmd.addOption(tableOption(entry));
  return cmd;
}

/** Commander's parsed options restricted to the given entries' fields. */
export function pick(opts: Record<string, unknown>, table: FlagEntries): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(table)) if (opts[field] !== undefined) out[field] = opts[field];
  return out;
}

/**
 * Commander's own usage errors (unknown option, missing argument or mandatory option, too many
 * arguments) are invalid configuration too: exit 2, as E_CONFIG is, in every command.
 */
export function exitTwoOnUsageErrors(cmd: Command): void {
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)).showHelpAfterError('(run the command with --help to see every option)');
  for (const sub of cmd.commands) exitTwoOnUsageErrors(sub);
}

