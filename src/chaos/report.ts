/**
 * What a chaos run must prove, computed from the export files alone (not from the exporter's
 * own counters), and the report printed by `roberta-batch chaos`.
 */
import type { EnqueueSummary } from '../producer/enqueue.js';
import type { ResultRecord } from '../shared/types.js';
import type { ChaosCorpus } from './planted.js';

export interface FaultRecord {
  kind: 'sigkill' | 'sigterm-then-sigkill' | 'redis-restart' | 'client-pause';
  /** Date.now() of the fault. */
  at: number;
  /** Jobs finished (completed or failed) when the fault was injected, of `of` expected. */
  atFinished: number;
  of: number;
  worker?: string;
  exitedWith?: number | string;
  downMs?: number;
  pauseMs?: number;
  /** Kills: the jobs the killed worker held (BullMQ's processedBy) when it was killed. */
  heldJobIds?: string[];
  /** Jobs reported stalled because of the fault: for a kill, the jobs it held; else those after it and before the next fault. */
  stalled: number;
  firstStallAfterMs?: number;
  /** Fault → the last of those jobs completed. */
  recoveryMs?: number;
}

export interface ChaosReport {
  ok: boolean;
  failures: string[];
  documentsIn: number;
  resultsOut: number;
  recordedFailures: { byWorker: number; byProducer: number; total: number };
  plantedBadInputs: { byWorker: number; byProducer: number; total: number };
  lost: number;
  duplicateIds: number;
  differFromReference: number;
  maxAbsDiff: number;
  stalledEvents: number;
  faults: FaultRecord[];
  finalQueue: Record<string, number>;
  workers: number;
  elapsedMs: number;
  dir?: string;
}

/** A result equals its reference within this (float32 batched vs single-row sums). */
export const REFERENCE_TOLERANCE = 1e-4;

export function checkInvariants(input: {
  corpus: ChaosCorpus;
  reference: Map<string, Float32Array>;
  records: ResultRecord[];
  summaries: EnqueueSummary[];
  faults: FaultRecord[];
  finalCounts: Record<string, number>;
  stalledEvents: number;
  stackTraces: string[];
  elapsedMs: number;
  workers: number;
}): ChaosReport {
  const { corpus, reference, records, summaries } = input;
  const failures: string[] = [];
  const byId = new Map<string, ResultRecord>();
  let duplicateIds = 0;
  for (const r of records) {
    if (byId.has(r.id)) duplicateIds++;
    else byId.set(r.id, r);
  }
  const plantedWorker = corpus.planted.filter((p) => p.expect === 'failed-by-worker');
  const plantedProducer = corpus.planted.filter((p) => p.expect === 'rejected-by-producer');
  let lost = 0;
  let differ = 0;
  let maxAbsDiff = 0;
  for (const [id, ref] of reference) {
    const r = byId.get(id);
    if (!r || r.status !== 'ok' || !r.sentiment) {
      lost++;
      if (r) failures.push(`document ${id} failed (${r.status === 'failed' ? `${r.code}: ${r.reason}` : 'no sentiment'}) but is a good document`);
      continue;
    }
    let d = 0;
    for (let k = 0; k < ref.length; k++) d = Math.max(d, Math.abs(r.sentiment.logits[k] - ref[k]));
    if (!(d <= REFERENCE_TOLERANCE)) differ++;
    maxAbsDiff = Math.max(maxAbsDiff, Number.isFinite(d) ? d : Infinity);
  }
  for (const p of plantedWorker) {
    const r = byId.get(p.id!);
    if (!r) lost++;
    else if (r.status !== 'failed' || r.code !== p.code) failures.push(`planted ${p.kind} (${p.id}) ended ${r.status === 'failed' ? r.code : 'ok'}, expected ${p.code}`);
  }
  const failedRecords = [...byId.values()].filter((r) => r.status === 'failed').length;
  const rejected = summaries.reduce((a, s) => a + s.rejected, 0);
  const documentsIn = summaries.reduce((a, s) => a + s.read, 0);
  const resultsOut = [...byId.values()].filter((r) => r.status === 'ok').length;
  const c = input.finalCounts;

  if (documentsIn !== corpus.lines) failures.push(`documents in ${documentsIn}, the input has ${corpus.lines} lines`);
  if (lost) failures.push(`${lost} documents lost (neither a result nor a failure record)`);
  if (duplicateIds) failures.push(`${duplicateIds} duplicate ids in the export`);
  if (differ) failures.push(`${differ} results differ from their document's reference by more than ${REFERENCE_TOLERANCE}`);
  if (resultsOut !== corpus.good.size) failures.push(`results out ${resultsOut}, expected ${corpus.good.size}`);
  if (failedRecords !== plantedWorker.length) failures.push(`worker failure records ${failedRecords}, planted ${plantedWorker.length}`);
  if (rejected !== plantedProducer.length) failures.push(`producer rejections ${rejected}, planted ${plantedProducer.length}`);
  for (const state of ['waiting', 'active', 'delayed', 'prioritized'] as const) {
    if (c[state]) failures.push(`final queue: ${c[state]} jobs ${state}`);
  }
  // Failed jobs leave Redis once their failure records are exported (only a marker stays).
  if (c.failed) failures.push(`final queue: ${c.failed} failed jobs left after their failures were exported`);
  for (const f of input.faults) if (f.atFinished >= f.of) failures.push(`fault ${f.kind} came after the work was done`);
  const kills = input.faults.filter((f) => f.kind === 'sigkill');
  if (kills.length && kills.every((f) => f.stalled === 0)) failures.push('no SIGKILL left a job to recover (was any worker busy?)');
  if (input.stackTraces.length) failures.push(`stack traces in worker output: ${input.stackTraces.slice(0, 3).join(' | ')}`);

  return {
    ok: failures.length === 0,
    failures,
    documentsIn,
    resultsOut,
    recordedFailures: { byWorker: failedRecords, byProducer: rejected, total: failedRecords + rejected },
    plantedBadInputs: { byWorker: plantedWorker.length, byProducer: plantedProducer.length, total: corpus.planted.length },
    lost,
    duplicateIds,
    differFromReference: differ,
    maxAbsDiff,
    stalledEvents: input.stalledEvents,
    faults: input.faults,
    finalQueue: c,
    workers: input.workers,
    elapsedMs: input.elapsedMs,
  };
}

export function formatReport(r: ChaosReport, describe: (f: FaultRecord) => string): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const q = r.finalQueue;
  const lines = [
    `roberta-batch chaos: ${r.ok ? 'PASS' : 'FAIL'} (${(r.elapsedMs / 1000).toFixed(1)} s, ${r.workers} worker processes)`,
    `  documents in          ${n(r.documentsIn)} (input lines, planted bad ones included)`,
    `  results out           ${n(r.resultsOut)}`,
    `  recorded failures     ${n(r.recordedFailures.total)} (worker ${r.recordedFailures.byWorker}, producer ${r.recordedFailures.byProducer}); planted bad inputs ${r.plantedBadInputs.total} (worker ${r.plantedBadInputs.byWorker}, producer ${r.plantedBadInputs.byProducer})`,
    `  lost                  ${r.lost}`,
    `  duplicate ids         ${r.duplicateIds}`,
    `  differ from reference ${r.differFromReference} (max |diff| ${r.maxAbsDiff.toExponential(2)}, tolerance 1e-4)`,
    `  stalled-job events    ${r.stalledEvents}`,
    '  faults',
    ...r.faults.map((f, i) => `    ${i + 1}. ${describe(f)}`),
    `  final queue           waiting ${q.waiting ?? 0}, active ${q.active ?? 0}, delayed ${q.delayed ?? 0}, completed ${q.completed ?? 0}, failed ${q.failed ?? 0}`,
    ...r.failures.map((f) => `  INVARIANT FAILED: ${f}`),
  ];
  return `${lines.join('\n')}\n`;
}
