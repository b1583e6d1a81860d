import { expect, test } from 'vitest';
import { docs, errors, readAll } from '../helpers/read-all.js';

test('text: one document per line, id <basename>:<lineNo>, blank lines skipped and counted', async () => {
  // A NUL byte in the first 8,000 bytes marks the whole input as binary (binary-input.ts); later
  // on, a line keeps its control characters and the worker decides.
  const input = `first review\n\nsecond\tone\r\n   \n${'x'.repeat(8000)}\nthird\u0000with NUL\n`;
  const { items, skippedBlank } = await readAll(input, 'reviews.txt');
  expect(docs(items)).toEqual([
    { lineNo: 1, id: 'reviews.txt:1', text: 'first review' },
    { lineNo: 3, id: 'reviews.txt:3', text: 'second\tone' },
    { lineNo: 5, id: 'reviews.txt:5', text: 'x'.repeat(8000) },
    { lineNo: 6, id: 'reviews.txt:6', text: 'third\u0000with NUL' },
  ]);
  expect(errors(items)).toEqual([]);
  expect(skippedBlank).toBe(2);
});

test('text: --id-prefix replaces the basename; a last line without newline is read', async () => {
  const { items } = await readAll('a\nb', 'stdin', { idPrefix: 'batch' });
  expect(docs(items).map((d) => d.id)).toEqual(['batch:1', 'batch:2']);
});

test('format auto: .jsonl/.ndjson → jsonl, .csv → csv, anything else → text', async () => {
  const { detectFormat } = await import('../../src/producer/readers.js');
  expect(['a.jsonl', 'a.NDJSON', 'a.csv', 'a.txt', 'a.json', 'stdin', 'rt-polarity.pos'].map(detectFormat)).toEqual([
    'jsonl', 'jsonl', 'csv', 'text', 'text', 'text', 'text',
  ]);
});
