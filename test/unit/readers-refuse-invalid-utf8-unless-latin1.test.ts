import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { docs, errors, readAll } from '../helpers/read-all.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

test('utf8: a line with latin-1 bytes is reported (not mangled with U+FFFD) in every format', async () => {
  const text = Buffer.concat([Buffer.from('ok line\n'), latin1('el ladr\u00f3n\n'), Buffer.from('caf\u00e9 in UTF-8\n')]);
  const t = await readAll(text, 'r.txt');
  expect(docs(t.items).map((d) => d.text)).toEqual(['ok line', 'caf\u00e9 in UTF-8']);
  expect(errors(t.items)).toEqual([
    { lineNo: 2, code: 'E_INPUT_INVALID', message: 'line 2: not valid UTF-8; re-run with --encoding latin1', id: 'r.txt:2' },
  ]);

  const jsonl = Buffer.concat([latin1('{"id":"1","text":"ni\u00f1o"}\n'), Buffer.from('{"id":"2","text":"fine"}\n')]);
  const j = await readAll(jsonl, 'r.jsonl');
  expect(errors(j.items).map((e) => [e.lineNo, e.message])).toEqual([[1, 'line 1: not valid UTF-8; re-run with --encoding latin1']]);
  expect(docs(j.items).map((d) => d.id)).toEqual(['2']);

  const csv = Buffer.concat([Buffer.from('id,text\n1,"multi\n'), latin1('line \u00e9"\n'), Buffer.from('2,fine\n')]);
  const c = await readAll(csv, 'r.csv');
  expect(errors(c.items).map((e) => [e.lineNo, e.message])).toEqual([[3, 'line 3: not valid UTF-8; re-run with --encoding latin1']]);
  expect(docs(c.items).map((d) => d.id)).toEqual(['2']);
});

test('--encoding latin1 decodes the real rt-polarity reviews', async () => {
  const raw = readFileSync('/work/shared/corpora/rt-polarity/rt-polarity.pos');
  const asUtf8 = await readAll(raw, 'rt-polarity.pos', {}, 64 * 1024);
  expect(errors(asUtf8.items).length).toBeGreaterThan(50); // 101 lines hold latin-1 bytes
  expect(errors(asUtf8.items)[0].lineNo).toBe(44);

  const asLatin1 = await readAll(raw, 'rt-polarity.pos', { encoding: 'latin1' }, 64 * 1024);
  expect(errors(asLatin1.items)).toEqual([]);
  expect(docs(asLatin1.items)).toHaveLength(5331);
  const line44 = docs(asLatin1.items).find((d) => d.lineNo === 44);
  expect(line44?.text).toContain('el ladr\u00f3n de orqu');
});

test('a UTF-8 BOM at the start is removed', async () => {
  const { items } = await readAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,text\n1,x\n')]), 'b.csv', {}, 2);
  expect(docs(items)).toEqual([{ lineNo: 2, id: '1', text: 'x' }]);
});
