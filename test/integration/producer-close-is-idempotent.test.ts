import { expect, test } from 'vitest';
import { DocumentProducer } from '../../src/producer/enqueue.js';
import { redisUrl, useTestQueue, withDeadline } from '../helpers/test-queue.js';

test('DocumentProducer.close() returns the same promise to every caller and may be called before open()', async () => {
  const { name, queue } = useTestQueue();
  const unopened = new DocumentProducer({ queue: name, redisUrl: redisUrl() });
  await withDeadline(unopened.close(), 5_000, 'close before open');

  const producer = new DocumentProducer({ queue: name, redisUrl: redisUrl(), runId: 'run-close' });
  await producer.open();
  const s = await producer.enqueue([{ lineNo: 1, doc: { id: 'a', text: 'x' } }]);
  expect(s.enqueued).toBe(1);
  const a = producer.close();
  const b = producer.close();
  expect(a).toBe(b);
  await withDeadline(a, 5_000, 'close');
  expect(await queue.getWaitingCount()).toBe(1);
});
