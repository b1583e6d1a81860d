/**
 * The producer's packer and document limits without Redis: packs of `docsPerJob`, a pack closed
 * early when the next document would take it over `maxJobBytes`, and the lines refused before
 * anything is sent (bad id, text over the document limit, job over the job limit).
 */
import { describe, expect, it } from 'vitest';
import { checkDocument } from '../../src/producer/document-limits.js';
import { jobIdForDocument, jobIdForPack } from '../../src/shared/job-id.js';
import { Packer, utf8Bytes } from '../../src/producer/packer.js';

const doc = (i: number, text = `text ${i}`) => ({ id: `d${i}`, text });
const bytes = (d: object) => utf8Bytes(JSON.stringify(d));

describe('Packer', () => {
  it('makes one job per document with docsPerJob 1, its id the document id', () => {
    const p = new Packer({ runId: 'r', docsPerJob: 1, maxJobBytes: 1_000, keepDoneDays: undefined });
    const [job] = p.add(doc(1), bytes(doc(1)), 7);
    expect(job).toEqual({ jobId: jobIdForDocument('d1'), data: { v: 1, runId: 'r', docs: [doc(1)], keepDoneDays: undefined }, lineNo: 7 });
    expect(p.close()).toBeUndefined();
  });

  it('packs docsPerJob documents under the id of the packed ids, the rest on close()', () => {
    const p = new Packer({ runId: 'r', docsPerJob: 2, maxJobBytes: 10_000, keepDoneDays: 3 });
    const jobs = [1, 2, 3].flatMap((i) => p.add(doc(i), bytes(doc(i)), i));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ jobId: jobIdForPack(['d1', 'd2']), lineNo: 1, data: { keepDoneDays: 3 } });
    expect(p.close()).toMatchObject({ jobId: jobIdForPack(['d3']), lineNo: 3 });
    expect(p.close()).toBeUndefined();
  });

  it('closes a pack early rather than grow it over maxJobBytes', () => {
    const probe = new Packer({ runId: 'r', docsPerJob: 10, maxJobBytes: 0, keepDoneDays: undefined });
    const one = bytes(doc(1));
    // Room for two documents and the comma between them, not for a third.
    const p = new Packer({ runId: 'r', docsPerJob: 10, maxJobBytes: probe.overhead + 2 * one + 1, keepDoneDays: undefined });
    expect(p.add(doc(1), one, 1)).toEqual([]);
    expect(p.add(doc(2), one, 2)).toEqual([]);
    const closed = p.add(doc(3), one, 3);
    expect(closed.map((j) => j.data.docs.map((d) => d.id))).toEqual([['d1', 'd2']]);
    expect(bytes(closed[0].data)).toBeLessThanOrEqual(probe.overhead + 2 * one + 1);
  });
});

describe('checkDocument', () => {
  const limits = { maxDocBytes: 10, maxJobBytes: 200, jobOverhead: 50 };

  it('passes a document with its JSON size', () => {
    expect(checkDocument(1, doc(1), limits)).toEqual({ docBytes: bytes(doc(1)) });
  });

  it('refuses an id that is not a string, a text over maxDocBytes and a job over maxJobBytes', () => {
    expect(checkDocument(2, { id: 5 as unknown as string, text: 'x' }, limits)).toMatchObject({ rejected: { lineNo: 2, code: 'E_INPUT_INVALID' } });
    expect(checkDocument(3, doc(3, 'é'.repeat(6)), limits)).toMatchObject({ rejected: { lineNo: 3, code: 'E_INPUT_TOO_LARGE', id: 'd3', message: expect.stringContaining('12 bytes') } });
    const wide = { id: 'd4', text: 'short', meta: { note: 'm'.repeat(200) } };
    expect(checkDocument(4, wide, limits)).toMatchObject({ rejected: { lineNo: 4, code: 'E_INPUT_TOO_LARGE', message: expect.stringContaining('--max-job-bytes') } });
  });
});
