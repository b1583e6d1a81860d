/**
 * `models generate --signature zoo` writes a model whose `models inspect` report is the
 * zoo file's signature (one int64 token-id input, output [batch, 2]); `--out DIR` writes a
 * folder a worker can use as --model directly.
 */
import { existsSync} from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

it('generates a zoo-signature classifier that inspect describes like the zoo file', async () => {
  const dir = path.join(tempDir('rb-gen-'), 'bundle');
  const gen = await runCli(['models', 'generate', '--preset', 'tiny', '--head', 'sequence-classification', '--signature', 'zoo', '--out', dir]);
  expect(gen.code, gen.output).toBe(0);
  expect(gen.output).toMatch(/random weights: scores are meaningless/);
  for (const f of ['model.onnx', 'tokenizer.json']) expect(existsSync(path.join(dir, f))).toBe(true);

  const inspect = await runCli(['models', 'inspect', dir, '--json']);
  expect(inspect.code, inspect.output).toBe(0);
  const report = JSON.parse(inspect.output);
  expect(report).toMatchObject({ signature: 'zoo', task: 'sentiment', numLabels: 2, vocabRows: 50265, maxLength: 512, generated: true });
  // roberta-sequence-classification-9.onnx: input "input" int64 [batch_size, sentence_length], output "output" [batch_size, 2]
  expect(report.inputs).toEqual([{ name: 'input', type: 'int64', shape: ['batch_size', 'sentence_length'] }]);
  expect(report.outputs).toEqual([{ name: 'output', type: 'float32', shape: ['batch_size', 2] }]);

  const base = path.join(path.dirname(dir), 'base.onnx');
  expect((await runCli(['models', 'generate', '--head', 'base', '--signature', 'hf', '--out', base])).code).toBe(0);
  const b = JSON.parse((await runCli(['models', 'inspect', base, '--json'])).output);
  expect(b).toMatchObject({ signature: 'hf', task: 'embed', hiddenSize: 64 });
  expect(b.inputs.map((i: { name: string }) => i.name)).toEqual(['input_ids', 'attention_mask']);
  expect(b.outputs.map((o: { name: string }) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);

  const bad = await runCli(['models', 'generate', '--preset', 'huge', '--head', 'x', '--out', base]);
  expect(bad.code).toBe(2);
  expect(bad.output).toMatch(/--preset "huge": expected tiny or base/);
  expect(bad.output).toMatch(/--head "x"/);
}, 60_000);
