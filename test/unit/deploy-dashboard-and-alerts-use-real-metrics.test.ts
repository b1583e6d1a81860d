/**
 * The Grafana dashboard, the alert rules and the KEDA query name only metrics the worker
 * registers (src/worker/metrics.ts, default process metrics included, with their prefix), and
 * only labels those metrics carry; the PrometheusRule and the plain rule file hold the same rules.
 * Histogram series (_bucket/_sum/_count) count as their histogram.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics, metricNames } from '../../src/worker/metrics.js';
import { loadYamlDocs } from '../helpers/render-kustomize.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Labels Prometheus adds at scrape time (ServiceMonitor targets) and `le` of histogram buckets.
const TARGET_LABELS = new Set(['namespace', 'instance', 'pod', 'job', 'service', 'container', 'endpoint']);

const m = createWorkerMetrics();
m.stop();
const registered = new Map<string, { type: string; labels: string[] }>();
for (const x of m.registry.getMetricsAsArray()) {
  const metric = x as unknown as { name: string; type?: string; labelNames?: string[] };
  registered.set(metric.name, { type: String((x as unknown as { type: unknown }).type ?? ''), labels: metric.labelNames ?? [] });
}

function resolve(series: string): { name: string; bucket: boolean } | undefined {
  if (registered.has(series)) return { name: series, bucket: false };
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base !== series && registered.has(base) ? { name: base, bucket: series.endsWith('_bucket') } : undefined;
}

/** Every `roberta_batch_*` reference with the label names of its selector, if any. */
function references(text: string): Array<{ series: string; labels: string[] }> {
  const out: Array<{ series: string; labels: string[] }> = [];
  for (const x of text.matchAll(/(roberta_batch_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = x[3] ? [...x[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]) : [];
    out.push({ series: x[1], labels });
  }
  return out;
}

const SOURCES = [
  'deploy/grafana/roberta-batch.json',
  'deploy/prometheus/alerts.yaml',
  ...readdirSync(path.join(root, 'deploy/k8s'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).map((f) => `deploy/k8s/${f}`),
];

describe.each(SOURCES)('%s', (file) => {
  it('names registered metrics and their labels only', () => {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const ref of references(text)) {
      const r = resolve(ref.series);
      expect(r, `${ref.series} is registered by createWorkerMetrics()`).toBeDefined();
      const allowed = new Set([...registered.get(r!.name)!.labels, ...TARGET_LABELS, ...(r!.bucket ? ['le'] : [])]);
      for (const l of ref.labels) expect(allowed.has(l), `${ref.series}{${l}}`).toBe(true);
    }
  });
});

it('the metric names the worker code exports include every one the autoscaler and alerts rely on', () => {
  const names = new Set(metricNames());
  for (const n of ['roberta_batch_drain_seconds', 'roberta_batch_documents_per_second', 'roberta_batch_queue_jobs', 'roberta_batch_ready', 'roberta_batch_documents_total']) expect(names.has(n), n).toBe(true);
  expect(registered.has('roberta_batch_process_cpu_seconds_total')).toBe(true);
});

describe('grafana dashboard', () => {
  const dash = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/roberta-batch.json'), 'utf8')) as {
    panels: Array<{ id: number; title: string; targets: Array<{ expr: string; refId: string }>; datasource: { uid: string } }>;
    __inputs: Array<{ name: string }>;
  };

  it('has the panels the runbook refers to, each with a Prometheus query, importable with a datasource input', () => {
    const titles = dash.panels.map((p) => p.title);
    for (const t of ['Throughput by status', 'Tokens/s: useful vs padded', 'Batch size (documents per batch)', 'Padded tokens per batch', 'Queue depth by state', 'Failures', 'Event-loop delay p99 (main thread)', 'Drain seconds per worker', 'Ready workers']) {
      expect(titles).toContain(t);
    }
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    expect(dash.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(p.datasource.uid).toBe('${DS_PROMETHEUS}');
      for (const t of p.targets) expect(t.expr, p.title).toMatch(/roberta_batch_/);
    }
    const latency = dash.panels.filter((p) => p.targets.some((t) => t.expr.startsWith('histogram_quantile(')));
    const quantiles = new Set(latency.flatMap((p) => p.targets.map((t) => /^histogram_quantile\(([\d.]+)/.exec(t.expr)?.[1])));
    expect([...quantiles].sort()).toEqual(['0.5', '0.95', '0.99']);
  });
});

describe('alert rules', () => {
  const [plain] = loadYamlDocs(path.join(root, 'deploy/prometheus/alerts.yaml')) as unknown as Array<{ groups: Array<{ rules: Array<{ alert: string; expr: string; for: string }> }> }>;
  const [rule] = loadYamlDocs(path.join(root, 'deploy/k8s/base/prometheusrule.yaml')) as unknown as Array<{ spec: { groups: unknown } }>;

  it('the PrometheusRule holds exactly the rules of the plain rule file', () => {
    expect(rule.spec.groups).toEqual(plain.groups);
  });

  it('cover growth, stalls, failures and missing workers with the agreed windows', () => {
    const rules = new Map(plain.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    expect(rules.get('RobertaBatchQueueGrowing')).toMatchObject({ for: '15m' });
    expect(rules.get('RobertaBatchQueueGrowing')!.expr).toContain('[15m');
    expect(rules.get('RobertaBatchNoProgress')!.expr).toMatch(/increase\(roberta_batch_documents_total\[10m\]\)[\s\S]*state="waiting"/);
    expect(rules.get('RobertaBatchFailureRate')!.expr).toMatch(/status="failed"[\s\S]*> 0\.05/);
    expect(rules.get('RobertaBatchNoReadyWorker')!.expr).toMatch(/roberta_batch_ready[\s\S]*state="waiting"/);
  });
});
