/**
 * The benchmark's report: a Markdown section per mode and precision in docs/BENCHMARKS.md,
 * between markers, so a new run replaces its own section and keeps everything else (the
 * hand-written parts of the file and the sections of other modes).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine.js';
import type { PipelineCeilingResult, ReferenceMeasurement } from './pipeline-ceiling.js';
import type { BenchRatio, BenchResult, BenchRow } from './run.js';
import { formatNumber } from './stats.js';

const mib = (b?: number) => (b === undefined ? 'n/a' : `${formatNumber(b / 2 ** 20, 0)} MiB`);
const pct = (f?: number) => (f === undefined ? 'n/a' : `${(f * 100).toFixed(1)} %`);

export function ratioVerdict(r: BenchRatio): string {
  if (r.value === undefined) return 'not measured';
  if (r.min !== undefined) return r.value >= r.min ? `met (≥ ${r.min})` : `NOT met (≥ ${r.min})`;
  if (r.max !== undefined) return r.value <= r.max ? `met (≤ ${r.max})` : `NOT met (≤ ${r.max})`;
  return '—';
}

function rowsTable(rows: BenchRow[]): string[] {
  return [
    '| measurement | docs/s | useful tokens/s | mean batch | padding | worker peak RSS | event-loop p99 | load (1 min) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label}${r.note ? ` (${r.note})` : ''} | ${formatNumber(r.docsPerSecond)} | ${formatNumber(r.tokensPerSecond, 0)} | ${formatNumber(r.meanBatchSize)} | ${pct(r.paddingFraction)} | ${r.peakRssBytes ? mib(r.peakRssBytes) : '—'} | ${r.eventLoopDelayP99Ms !== undefined ? `${formatNumber(r.eventLoopDelayP99Ms)} ms` : '—'} | ${r.load.toFixed(2)} |`),
  ];
}

const us = (v?: number) => (v === undefined ? 'n/a' : formatNumber(v, 0));

function referenceLabel(m: ReferenceMeasurement): string {
  const what = m.kind === 'tokenizer' ? 'tokenizer alone: encodeBatch of 256 texts' : `BullMQ no-op processor, ${m.docsPerJob} per job (concurrency 64)`;
  return m.around ? `${what}, ${m.around.when} the ${m.around.docsPerJob}-per-job${m.around.workers > 1 ? ` ${m.around.workers}-worker` : ''} run` : what;
}

/** The pipeline-ceiling table: every measurement in the order it was taken, the ratios below it. */
export function pipelineCeilingTable(p: PipelineCeilingResult): string[] {
  const lines = [
    `Pipeline ceiling (${p.model}; ${p.docs} documents per run, mean ${p.meanTokens.toFixed(1)} tokens; ${p.redis} Redis; \`results --follow\` as its own process; ` +
      `${p.rounds} round${p.rounds > 1 ? 's' : ''}, each run between two measurements of its reference, in the order measured; ` +
      (p.warmupDocs ? `each run measured after a warm-up pass of ${p.warmupDocs} other documents through the same processes, whose rate, from cold processes, is the last column):` : 'cold processes, no warm-up pass):'),
    '',
    '| round | measurement | docs/s | worker CPU µs/doc | of it main thread | exporter CPU µs/doc | Redis CPU µs/doc | bench CPU µs/doc | mean batch | load (1 min) | warm-up docs/s |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...p.measurements.map((m) => (m.type === 'reference'
      ? `| ${m.round || '—'} | ${referenceLabel(m)} | ${formatNumber(m.docsPerSecond)} | — | — | — | ${m.redisCpuUsPerDoc === undefined ? '—' : formatNumber(m.redisCpuUsPerDoc)} | — | — | ${m.load.toFixed(2)} | — |`
      : `| ${m.round} | ${m.build === 'baseline' ? 'baseline build: ' : ''}roberta-batch, ${m.workers} worker process${m.workers > 1 ? 'es' : ''}, ${m.docsPerJob} per job | ${formatNumber(m.docsPerSecond)} | ${us(m.workerCpuUsPerDoc)} | ${us(m.workerMainThreadCpuUsPerDoc)} | ${us(m.exporterCpuUsPerDoc)} | ${us(m.redisCpuUsPerDoc)} | ${formatNumber(m.benchCpuUsPerDoc, 1)} | ${formatNumber(m.meanBatchSize)} | ${m.load.toFixed(2)} | ${m.warmup ? formatNumber(m.warmup.docsPerSecond) : '—'} |`)),
    '',
  ];
  if (p.profileDir) lines.push(`Worker CPU profiles (node --cpu-prof): ${p.profileDir}`, '');
  return lines;
}

/** A ratio's value cell: the median and its range when measured over several rounds. */
export function ratioValue(x: BenchRatio): string {
  if (x.value === undefined) return 'n/a';
  return x.range ? `${x.value.toFixed(3)} (${x.range[0].toFixed(3)}–${x.range[1].toFixed(3)})` : x.value.toFixed(3);
}

/** What a run ran on, the same sentence in every section. */
function machineLine(m: MachineInfo): string {
  return `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.platform}; Node ${m.node}, onnxruntime-node ${m.onnxruntime}, BullMQ ${m.bullmq}, ${m.allocator}.`;
}

export function renderSection(r: BenchResult): string {
  const m = r.machine;
  if (r.only === 'ceiling' && r.pipelineCeiling) {
    const lines = [
      `### pipeline ceiling, ${r.ceilingModel ? `base model ${r.precision}, ` : ''}${r.mode} (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${formatNumber(r.elapsedSeconds, 0)} s)`,
      '',
      `${machineLine(m)} ` +
        `Load average at start: ${r.loadAtStart.join(' / ')} (1 / 5 / 15 min). Documents from ${r.corpus}. Worker flags: ${r.workerArgs.length ? `\`${r.workerArgs.join(' ')}\`` : 'defaults'}.`,
      '',
      ...pipelineCeilingTable(r.pipelineCeiling),
      '| ratio | value | target | load (1 min) |', '|---|---:|---|---:|',
      ...r.ratios.map((x) => `| ${x.name} | ${ratioValue(x)} | ${ratioVerdict(x)} | ${x.load.toFixed(2)} |`),
    ];
    return lines.join('\n') + '\n';
  }
  const lines = [
    `### ${r.mode} run, ${r.precision} (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${formatNumber(r.elapsedSeconds, 0)} s)`,
    '',
    `${machineLine(m)} ` +
      `Load average at start: ${r.loadAtStart.join(' / ')} (1 / 5 / 15 min): figures taken under load are noisy.`,
    '',
    `Model: ${r.model}. Documents: ${r.docs} from ${r.corpus}, mean ${r.meanTokens.toFixed(1)} tokens. Worker flags: ${r.workerArgs.length ? `\`${r.workerArgs.join(' ')}\`` : 'defaults'}.`,
    '',
    ...rowsTable(r.rows),
    '',
  ];
  if (r.queuePath.length) lines.push('Queue path (tiny model, from a pre-filled queue to the last result exported):', '', ...rowsTable(r.queuePath), '');
  const mem = r.memory;
  if (mem.largestBatchPeakRssBytes !== undefined || mem.growth !== undefined) {
    lines.push('Memory:', '');
    if (mem.largestBatchPeakRssBytes !== undefined) lines.push(`- worker peak RSS after its largest batch, ${mem.largestBatchShape}: ${mib(mem.largestBatchPeakRssBytes)} (batch took ${formatNumber(mem.largestBatchSeconds)} s; load ${mem.load?.toFixed(2)})`);
    if (mem.growth !== undefined) lines.push(`- worker RSS (tiny model) after ${mem.firstDocs} documents ${mib(mem.rssAfterFirstBytes)}, after ${mem.allDocs}: ${mib(mem.rssAfterAllBytes)}: growth ${pct(mem.growth)}`);
    lines.push('');
  }
  if (r.pipelineCeiling) lines.push(...pipelineCeilingTable(r.pipelineCeiling));
  if (r.similarity) {
    const s = r.similarity;
    lines.push(`Embeddings int8 vs fp32 (base-head model, ${s.docs} documents): cosine of mean-pooled vectors mean ${s.meanPooled.mean.toFixed(4)}, min ${s.meanPooled.min.toFixed(4)}; of pooler_output mean ${s.pooler.mean.toFixed(4)}, min ${s.pooler.min.toFixed(4)} (load ${s.load.toFixed(2)}).`, '');
  }
  lines.push('| ratio | value | target | load (1 min) |', '|---|---:|---|---:|');
  for (const x of r.ratios) lines.push(`| ${x.name} | ${ratioValue(x)} | ${ratioVerdict(x)} | ${x.load.toFixed(2)} |`);
  if (r.notes.length) lines.push('', ...r.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

const INTRO = `# Benchmarks

Produced by \`npm run bench\` (\`roberta-batch bench [--quick] [--precision fp32|int8] [--docs N]\`): one run,
one model and one set of documents for every row. Each run replaces its own section below
(one per mode and precision) and leaves the rest of this file alone.

`;

/** Writes (or replaces) the run's section of `file`; returns the new file content. */
export function writeReport(file: string, r: BenchResult): string {
  // The base-model ceiling (a GPU host) has its own section: it never replaces the micro model's.
  const key = r.only === 'ceiling' ? `${r.mode}-ceiling${r.ceilingModel ? `-base-${r.precision}` : ''}` : `${r.mode}-${r.precision}`;
  const start = `<!-- bench:${key}:start -->`;
  const end = `<!-- bench:${key}:end -->`;
  const block = `${start}\n${renderSection(r)}${end}\n`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : INTRO;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length + (text[j + end.length] === '\n' ? 1 : 0));
  else {
    if (!text.includes('## Results')) text = `${text.trimEnd()}\n\n## Results\n\n`;
    text = `${text.trimEnd()}\n\n${block}`;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return text;
}
