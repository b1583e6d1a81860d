import { Job } from 'bullmq';
import { expect, test } from 'vitest';
import { documentIdFromJobId, invalidIdReason, jobIdForDocument, jobIdForPack } from '../../src/shared/job-id.js';

test('job id = document id, escaped only where BullMQ 6 refuses it, and reversibly', () => {
  const cases: Array<[string, string]> = [
    ['review-1', 'review-1'],
    ['a1b2', 'a1b2'],
    ['reviews.txt:17', 'reviews.txt%3A17'],
    ['a:b:c', 'a%3Ab%3Ac'],
    ['50%', '50%25'],
    ['17', '%317'],
    ['-3', '%2D3'],
    ['017', '017'],
    ['1.5', '1.5'],
    ['%317', '%25317'],
  ];
  for (const [doc, job] of cases) {
    expect(jobIdForDocument(doc)).toBe(job);
    expect(documentIdFromJobId(job)).toBe(doc);
  }
  // What BullMQ itself checks (Job.validateOptions): integer-like ids and ':' are refused.
  for (const [doc] of cases) {
    const id = jobIdForDocument(doc);
    expect(`${parseInt(id, 10)}` === id).toBe(false);
    expect(id.includes(':')).toBe(false);
  }
  expect(Job).toBeDefined();
});

test('pack ids depend on the ordered ids only, without separator ambiguity', () => {
  expect(jobIdForPack(['a', 'b'])).toBe(jobIdForPack(['a', 'b']));
  expect(jobIdForPack(['a', 'b'])).not.toBe(jobIdForPack(['b', 'a']));
  expect(jobIdForPack(['a\nb'])).not.toBe(jobIdForPack(['a', 'b']));
  expect(jobIdForPack(['a'])).toMatch(/^pack-[0-9a-f]{40}$/);
});

test('empty and over-long ids are refused', () => {
  expect(invalidIdReason('')).toBe('the id is empty');
  expect(invalidIdReason('x'.repeat(1025))).toMatch(/longer than 1024 bytes/);
  expect(invalidIdReason('ok')).toBeUndefined();
});
