/**
 * A bad value or a usage error is invalid configuration in every command: exit 2 before
 * anything starts, the message naming the flag (and its variable) and the values accepted.
 * Commander's own errors (unknown option, missing argument) exited 1 in most commands.
 */
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const cases: Array<[string[], RegExp]> = [
  [['worker', '--model', 'm.onnx', '--max-batch-size', '0'], /--max-batch-size \(RB_MAX_BATCH_SIZE\) "0": expected an integer from 1 to 4096/],
  [['worker', '--model', 'm.onnx', '--bogus'], /unknown option '--bogus'/],
  [['run', 'in.jsonl', '--out', 'o.jsonl', '--workers', 'abc', '--device', 'gpu'], /--workers \(RB_WORKERS\) "abc": expected an integer from 1 to 256\n\s+--device \(RB_DEVICE\) "gpu": expected cpu, cuda:N or auto/],
  [['eval', '--data', 'in.jsonl', '--label-field', 'label', '--workers', 'abc'], /--workers \(RB_WORKERS\) "abc": expected an integer from 1 to 256/],
  [['enqueue', '-', '--max-waiting', 'lots'], /--max-waiting \(RB_MAX_WAITING\) "lots": expected an integer >= 0/],
  [['enqueue'], /missing required argument 'input'/],
  [['bench', '--docs', '3', '--precision', 'fp16'], /--precision "fp16": expected fp32 or int8\n\s+--docs "3": expected an integer >= 32/],
  [['chaos', '--workers', 'abc'], /--workers "abc": expected an integer >= 2/],
  [['soak', '--documents', '0'], /--documents "0": expected an integer >= 1/],
  [['models', 'generate', '--out', 'x.onnx', '--preset', 'huge'], /--preset "huge": expected tiny or base/],
];

for (const [args, message] of cases) {
  it(`${args.join(' ')}: exit 2, ${message.source.slice(0, 40)}`, async () => {
    const r = await runCli(args, {}, 60_000);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(message);
    expect(r.output).not.toMatch(/^\s+at /m);
  });
}
