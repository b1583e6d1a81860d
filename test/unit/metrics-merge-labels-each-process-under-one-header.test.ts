/**
 * The supervisor's /metrics joins its processes' expositions: every sample
 * carries worker_process="i", each family is declared once (Prometheus refuses a repeated
 * HELP/TYPE), histogram samples stay under their family, label values stay intact.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { ExpositionMerger } from '../../src/supervisor/metrics-merge.js';

async function processMetrics(docs: number, reason: string): Promise<string> {
  const r = new Registry();
  new Counter({ name: 'rb_documents_total', help: 'Documents', labelNames: ['status'], registers: [r] }).inc({ status: 'ok' }, docs);
  new Counter({ name: 'rb_odd_total', help: 'Odd "label" values', labelNames: ['reason'], registers: [r] }).inc({ reason }, 1);
  new Histogram({ name: 'rb_seconds', help: 'Latency', buckets: [1], registers: [r] }).observe(0.5);
  new Counter({ name: 'rb_plain_total', help: 'No labels', registers: [r] }).inc(docs);
  return r.metrics();
}

it('labels every sample with its process and declares each family once', async () => {
  const text = new ExpositionMerger()
    .add(await processMetrics(3, 'a,b}'), { worker_process: '0' })
    .add(await processMetrics(4, 'q"x'), { worker_process: '1' })
    .text();
  const lines = text.split('\n').filter(Boolean);
  for (const fam of ['rb_documents_total', 'rb_odd_total', 'rb_seconds', 'rb_plain_total']) {
    expect(lines.filter((l) => l === `# TYPE ${fam} ${fam === 'rb_seconds' ? 'histogram' : 'counter'}`)).toHaveLength(1);
  }
  expect(lines).toContain('rb_documents_total{worker_process="0",status="ok"} 3');
  expect(lines).toContain('rb_documents_total{worker_process="1",status="ok"} 4');
  expect(lines).toContain('rb_plain_total{worker_process="1"} 4');
  expect(lines).toContain('rb_odd_total{worker_process="0",reason="a,b}"} 1');
  expect(lines).toContain('rb_odd_total{worker_process="1",reason="q\\"x"} 1');
  expect(lines).toContain('rb_seconds_bucket{worker_process="0",le="1"} 1');
  expect(lines).toContain('rb_seconds_count{worker_process="1"} 1');
  // every sample line of a family comes right after its header, both processes together
  const start = lines.indexOf('# TYPE rb_seconds histogram');
  expect(lines.slice(start + 1, start + 9).every((l) => l.startsWith('rb_seconds_'))).toBe(true);
  expect(lines.filter((l) => !l.startsWith('#')).every((l) => l.includes('worker_process="'))).toBe(true);
});
