/**
 * The batcher keeps its window in length buckets instead of sorting it per batch. On a manual
 * clock (no wall-clock waits), every batch it sends must be the one that sorting the window by
 * (length, arrival) and cutting it greedily picks (the reference below, the previous
 * implementation), and the flush rules hold at the exact millisecond.
 */
import { describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatcherOptions } from '../../src/worker/batcher.js';
import { doc, GatedBackend, ManualClock, settle } from '../helpers/batcher-fakes.js';

interface Mirror {
  tag: number;
  len: number;
  at: number;
  seq: number;
}

/** The previous #pick: copy, sort by (length, arrival), cut greedily, choose. */
function referencePick(window: Mirror[], force: boolean, o: BatcherOptions): Mirror[] | undefined {
  const sorted = [...window].sort((a, b) => a.len - b.len || a.seq - b.seq);
  const chunks: { items: Mirror[]; full: boolean }[] = [];
  let cur: Mirror[] = [];
  for (const item of sorted) {
    const len = item.len;
    const fits = cur.length < o.maxBatchSize && (cur.length + 1) * len <= Math.max(o.maxBatchTokens, len) && (!o.equalLengthOnly || cur.length === 0 || cur[0].len === len);
    if (!fits && cur.length) {
      const lengthBreak = o.equalLengthOnly && cur[0].len !== len && cur.length < o.maxBatchSize && (cur.length + 1) * len <= o.maxBatchTokens;
      chunks.push({ items: cur, full: !lengthBreak });
      cur = [];
    }
    cur.push(item);
  }
  if (cur.length) chunks.push({ items: cur, full: cur.length >= o.maxBatchSize || cur.length * cur[cur.length - 1].len >= o.maxBatchTokens });
  const oldest = window.reduce((a, b) => (b.seq < a.seq ? b : a));
  const withOldest = chunks.find((c) => c.items.includes(oldest));
  if (withOldest?.full) return withOldest.items;
  if (force) return withOldest?.items;
  return chunks.find((c) => c.full)?.items;
}

/** Deterministic xorshift32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}


async function compareWithReference(o: BatcherOptions, seed: number, n: number, lengths: () => number): Promise<number> {
  const clock = new ManualClock();
  const be = new GatedBackend();
  const b = new DynamicBatcher(be, o, {}, clock);
  const rnd = rng(seed);
  const mirror: Mirror[] = [];
  const all: Promise<unknown>[] = [];
  let seq = 0;
  const submit = (len: number) => {
    const tag = 1000 + seq;
    mirror.push({ tag, len, at: clock.t, seq: seq++ });
    all.push(b.submit(doc(tag, len)));
  };
  // One document leaves alone at max-wait and holds the backend while the window fills.
  submit(3);
  clock.advance(o.maxWaitMs);
  expect(be.batches).toHaveLength(1);
  mirror.splice(0, 1);
  for (let i = 0; i < n; i++) {
    submit(lengths());
    if (rnd() < 0.3) clock.advance(Math.floor(rnd() * 4));
  }
  let checked = 0;
  while (mirror.length) {
    const before = be.batches.length;
    be.release();
    await settle();
    if (rnd() < 0.5) clock.advance(Math.floor(rnd() * o.maxWaitMs));
    if (be.batches.length === before) {
      // Nothing full: the oldest document's deadline sends its chunk.
      const oldest = mirror.reduce((a, x) => (x.seq < a.seq ? x : a));
      clock.advance(Math.max(0, oldest.at + o.maxWaitMs - clock.t));
    }
    expect(be.batches.length).toBe(before + 1);
    const sent = be.batches[before];
    const oldest = mirror.reduce((a, x) => (x.seq < a.seq ? x : a));
    // The batch was chosen when the previous one ended (or when the timer fired): force is
    // whatever the oldest's wait was then; both choices are checked against the reference.
    const normal = referencePick(mirror, false, o)?.map((x) => x.tag);
    const forced = referencePick(mirror, true, o)!.map((x) => x.tag);
    expect([normal, forced]).toContainEqual(sent.tags);
    if (clock.t - oldest.at < o.maxWaitMs) expect(sent.tags).toEqual(normal ?? forced);
    for (const t of sent.tags) mirror.splice(mirror.findIndex((x) => x.tag === t), 1);
    checked++;
  }
  be.release();
  await Promise.all(all);
  await b.close();
  return checked;
}

describe('DynamicBatcher length buckets', () => {
  // One batch in flight, so every pick sees the whole window the reference sees.
  const base: BatcherOptions = { maxBatchSize: 8, maxBatchTokens: 160, maxWaitMs: 20, padId: 1, equalLengthOnly: false, maxInFlight: 1 };

  it('sends the batches a sorted window sends: short reviews, size and token limits', async () => {
    const r = rng(3);
    // rt-polarity-like lengths: mostly 10-45 tokens, a few long ones that hit the token budget.
    const checked = await compareWithReference(base, 1, 400, () => (r() < 0.05 ? 40 + Math.floor(r() * 120) : 10 + Math.floor(r() * 35)));
    expect(checked).toBeGreaterThan(40);
  });

  it('sends the batches a sorted window sends: few distinct lengths, many documents each', async () => {
    const r = rng(5);
    const checked = await compareWithReference({ ...base, maxBatchSize: 4, maxBatchTokens: 10_000 }, 2, 300, () => 3 + Math.floor(r() * 4));
    expect(checked).toBeGreaterThan(70);
  });

  it('sends the batches a sorted window sends: equal lengths only (no attention mask)', async () => {
    const r = rng(7);
    const checked = await compareWithReference({ ...base, equalLengthOnly: true, maxBatchTokens: 120 }, 3, 300, () => 5 + Math.floor(r() * 12));
    expect(checked).toBeGreaterThan(30);
  });

  it('a partial batch leaves at max-wait-ms of its oldest document, not a millisecond before', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend();
    const b = new DynamicBatcher(be, { ...base, maxWaitMs: 50 }, {}, clock);
    const p = [b.submit(doc(1, 3))];
    clock.advance(10);
    p.push(b.submit(doc(2, 4)));
    clock.advance(39);
    expect(be.batches).toHaveLength(0);
    clock.advance(1);
    expect(be.batches).toEqual([{ tags: [1, 2], lengths: [3, 4] }]);
    be.release();
    await expect(Promise.all(p)).resolves.toHaveLength(2);
    await b.close();
  });

  it('a full chunk leaves when the batch before it ends; the oldest document waits for its own deadline', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend();
    const b = new DynamicBatcher(be, { ...base, maxBatchSize: 2, maxWaitMs: 50 }, {}, clock);
    const p = [b.submit(doc(1, 3))];
    clock.advance(50); // [3] leaves alone and holds the backend
    clock.advance(5);
    p.push(b.submit(doc(2, 9)), b.submit(doc(3, 4)), b.submit(doc(4, 4)));
    expect(be.batches).toHaveLength(1);
    be.release();
    await settle();
    // Sorted: [4, 4] is full, [9] (the oldest) is not: the full chunk goes first.
    expect(be.batches[1]).toEqual({ tags: [3, 4], lengths: [4, 4] });
    be.release();
    await settle();
    expect(be.batches).toHaveLength(2);
    clock.advance(49);
    expect(be.batches).toHaveLength(2);
    clock.advance(1);
    expect(be.batches[2]).toEqual({ tags: [2], lengths: [9] });
    be.release();
    await Promise.all(p);
    expect(b.pending).toBe(0);
    await b.close();
  });

  it('with two in flight, a full batch queues behind the running one; an overdue one leaves when the running batch ends', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend();
    const b = new DynamicBatcher(be, { ...base, maxBatchSize: 2, maxWaitMs: 50, maxInFlight: 2 }, {}, clock);
    const p = [b.submit(doc(1, 3))];
    clock.advance(50); // [3] leaves alone at its deadline
    expect(be.batches).toHaveLength(1);
    p.push(b.submit(doc(2, 6)), b.submit(doc(3, 6)));
    expect(be.batches[1]).toEqual({ tags: [2, 3], lengths: [6, 6] }); // full: sent at once
    p.push(b.submit(doc(4, 8)), b.submit(doc(5, 8)));
    expect(be.batches).toHaveLength(2); // two in flight already
    p.push(b.submit(doc(6, 9)));
    be.release();
    await settle();
    // A slot freed: the full pair [8, 8] goes; [9] alone is not full and not yet due.
    expect(be.batches[2]).toEqual({ tags: [4, 5], lengths: [8, 8] });
    clock.advance(100); // [9] is past its deadline, but both slots are taken
    expect(be.batches).toHaveLength(3);
    be.release();
    await settle();
    // A slot freed while [8, 8] still runs: nothing is queued behind it while a document is
    // overdue (a partial batch taken now would come from a window that has not filled yet).
    expect(be.batches).toHaveLength(3);
    be.release();
    await settle();
    // [8, 8] done: the overdue document leaves next.
    expect(be.batches[3]).toEqual({ tags: [6], lengths: [9] });
    be.release();
    await expect(Promise.all(p)).resolves.toHaveLength(6);
    await b.close();
  });

  it('under a backlog, the overdue oldest document\'s chunk queues behind the running batch when it is full', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend();
    const b = new DynamicBatcher(be, { ...base, maxBatchSize: 2, maxWaitMs: 50, maxInFlight: 2 }, {}, clock);
    const p = [b.submit(doc(1, 3))];
    clock.advance(50); // [3] leaves alone and holds the backend
    p.push(b.submit(doc(2, 6)), b.submit(doc(3, 6)));
    expect(be.batches[1]).toEqual({ tags: [2, 3], lengths: [6, 6] });
    // A backlog builds behind both slots: every document in it overdue.
    p.push(b.submit(doc(4, 5)), b.submit(doc(5, 5)), b.submit(doc(6, 9)), b.submit(doc(7, 9)));
    clock.advance(100);
    expect(be.batches).toHaveLength(2);
    be.release();
    await settle();
    // A slot freed while [6, 6] still runs: the oldest waiting document (4) is in a full chunk,
    // which is what would leave next anyway, so it is queued now and the model never waits.
    expect(be.batches[2]).toEqual({ tags: [4, 5], lengths: [5, 5] });
    be.release();
    await settle();
    expect(be.batches[3]).toEqual({ tags: [6, 7], lengths: [9, 9] });
    be.release();
    be.release();
    await expect(Promise.all(p)).resolves.toHaveLength(7);
    await b.close();
  });

  it('behind a batch that runs longer than max-wait-ms nothing is queued while a document is overdue', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend(80); // each batch reports 80 ms, over max-wait-ms 50
    const b = new DynamicBatcher(be, { ...base, maxBatchSize: 2, maxWaitMs: 50, maxInFlight: 2 }, {}, clock);
    const p = [b.submit(doc(1, 3))];
    clock.advance(50);
    p.push(b.submit(doc(2, 6)), b.submit(doc(3, 6)));
    p.push(b.submit(doc(4, 5)), b.submit(doc(5, 5)), b.submit(doc(6, 9)), b.submit(doc(7, 9)));
    clock.advance(100);
    be.release();
    await settle();
    // [3] ran for 80 ms: the full chunk [5, 5] waits for [6, 6] to end instead of queuing.
    expect(be.batches).toHaveLength(2);
    be.release();
    await settle();
    expect(be.batches[2]).toEqual({ tags: [4, 5], lengths: [5, 5] });
    await be.releaseAll();
    await expect(Promise.all(p)).resolves.toHaveLength(7);
    await b.close();
  });

  it('a document whose length never fills a chunk is not starved by a stream of full batches', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend();
    // Equal lengths only: the 40-token document can never share a chunk with the 5-token ones.
    const b = new DynamicBatcher(be, { ...base, maxBatchSize: 2, maxWaitMs: 20, maxInFlight: 2, equalLengthOnly: true }, {}, clock);
    const lone = b.submit(doc(99, 40));
    const p: Promise<unknown>[] = [];
    let tag = 100;
    // Every millisecond two more 5-token documents: a full pair is always ready for a free slot.
    for (let t = 0; t < 60 && !be.batches.some((x) => x.tags.includes(99)); t++) {
      p.push(b.submit(doc(tag++, 5)), b.submit(doc(tag++, 5)));
      be.release();
      await settle();
      clock.advance(1);
    }
    const at = be.batches.findIndex((x) => x.tags.includes(99));
    expect(at).toBeGreaterThan(0);
    expect(clock.t).toBeLessThanOrEqual(25); // it left at its 20 ms deadline, give or take a batch
    while (be.release()) await settle();
    await lone;
    await b.close();
    while (be.release()) await settle();
    await Promise.all(p);
  });

  it('close() sends what waits without waiting for max-wait-ms', async () => {
    const clock = new ManualClock();
    const be = new GatedBackend();
    const b = new DynamicBatcher(be, { ...base, maxWaitMs: 60_000 }, {}, clock);
    const p = [b.submit(doc(1, 5)), b.submit(doc(2, 7))];
    const closing = b.close();
    await settle();
    expect(be.batches).toEqual([{ tags: [1, 2], lengths: [5, 7] }]);
    be.release();
    await closing;
    await expect(Promise.all(p)).resolves.toHaveLength(2);
  });
});
