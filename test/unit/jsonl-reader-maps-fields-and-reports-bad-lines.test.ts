import { expect, test } from 'vitest';
import { docs, errors, readAll } from '../helpers/read-all.js';

test('JSONL: id and text by configurable field names, other fields as meta, numeric ids as strings', async () => {
  const input = [
    '{"doc_id": "a1", "body": "great film", "lang": "en", "stars": 5}',
    '{"doc_id": 42, "body": "meh"}',
    '{"doc_id": "a3", "body": "x", "nested": {"k": [1, 2]}}',
  ].join('\n');
  const { items } = await readAll(input, 'reviews.jsonl', { idField: 'doc_id', textField: 'body' });
  expect(docs(items)).toEqual([
    { lineNo: 1, id: 'a1', text: 'great film', meta: { lang: 'en', stars: 5 } },
    { lineNo: 2, id: '42', text: 'meh' },
    { lineNo: 3, id: 'a3', text: 'x', meta: { nested: { k: [1, 2] } } },
  ]);
  expect(errors(items)).toEqual([]);
});

test('JSONL: malformed lines are reported with their line number, without the document text, and reading goes on', async () => {
  const input = [
    '{"id": "1", "text": "ok"}',
    '{"id": "2", "text": "secret words here"', // truncated
    '',
    '   ',
    '{"id": {"x": 1}, "text": "object id"}',
    '["id", "text"]',
    '{"text": "no id"}',
    '{"id": "7"}',
    'secret plain text',
    '{"id": "9", "text": "last"}',
  ].join('\r\n');
  const { items, skippedBlank } = await readAll(input, 'in.jsonl');
  expect(docs(items).map((d) => d.id)).toEqual(['1', '9']);
  expect(docs(items)[1].lineNo).toBe(10);
  const errs = errors(items);
  expect(errs.map((e) => [e.lineNo, e.code])).toEqual([
    [2, 'E_INPUT_PARSE'],
    [5, 'E_INPUT_INVALID'],
    [6, 'E_INPUT_PARSE'],
    [7, 'E_INPUT_INVALID'],
    [8, 'E_INPUT_INVALID'],
    [9, 'E_INPUT_PARSE'],
  ]);
  expect(errs[3].message).toBe('line 7: no "id" field (set --id-field, or --auto-id to number documents by line)');
  expect(errs[4]).toMatchObject({ message: 'line 8: no "text" field (set --text-field)', id: '7' });
  expect(errs[1].message).toBe('line 5: "id" must be a string or a number, got an object');
  for (const e of errs) expect(e.message).not.toMatch(/secret/);
  // Blank lines in JSONL are skipped without an error (and counted).
  expect(skippedBlank).toBe(2);
});

test('JSONL --auto-id: documents without an id get <basename>:<lineNo>', async () => {
  const input = '{"text": "a"}\n\n{"id": "given", "text": "b"}\n{"id": null, "text": "c"}\n';
  const { items } = await readAll(input, 'data.ndjson', { autoId: true });
  expect(docs(items).map((d) => d.id)).toEqual(['data.ndjson:1', 'given', 'data.ndjson:4']);
  const withPrefix = await readAll(input, 'data.ndjson', { autoId: true, idPrefix: 'batch7' });
  expect(docs(withPrefix.items)[0].id).toBe('batch7:1');
});

test('JSONL: NUL and control characters in the text pass through unchanged', async () => {
  const { items } = await readAll('{"id":"n","text":"a\\u0000b\\u0007c"}\n', 'x.jsonl');
  expect(docs(items)[0].text).toBe('a\u0000b\u0007c');
});
