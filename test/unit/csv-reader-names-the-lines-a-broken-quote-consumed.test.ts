/**
 * A stray quote opens a field that a later stray quote closes: every row in between was read
 * as part of one record and lost, reported only as "line 3: broken CSV quoting". The error
 * names the line range the record consumed.
 */
import { expect, test } from 'vitest';
import { docs, errors, readAll } from '../helpers/read-all.js';

test('a broken record that spans lines names the range it consumed', async () => {
  const input = [
    'id,text',
    '1,ok one',
    '2,"opens here and never closes properly',
    '3,a valid row swallowed',
    '4,another valid row swallowed',
    '5,closes here" with text after',
    '6,ok six',
  ].join('\n');
  const { items } = await readAll(input, 'x.csv');
  expect(docs(items).map((d) => d.id)).toEqual(['1', '6']);
  const [err] = errors(items);
  expect(err).toMatchObject({ lineNo: 3, code: 'E_INPUT_PARSE' });
  expect(err.message).toMatch(/^line 3: broken CSV quoting: .*; a quoted field opened on line 3 ran to line 6, so lines 3-6 \(4 lines\) were read as this one record and none of them is scored$/);
});

test('a multi-line record with the wrong field count names its range too; a one-line error stays as it was', async () => {
  const input = ['id,text', '1,"two', 'lines",extra', '2,wrong,count', '3,ok'].join('\n');
  const { items } = await readAll(input, 'x.csv');
  expect(errors(items).map((e) => e.message)).toEqual([
    'line 2: row has 3 fields, the header has 2; a quoted field opened on line 2 ran to line 3, so lines 2-3 (2 lines) were read as this one record and none of them is scored',
    'line 4: row has 3 fields, the header has 2',
  ]);
  expect(docs(items).map((d) => d.id)).toEqual(['3']);
});
