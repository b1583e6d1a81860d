/**
 * The chaos corpus: synthetic reviews (1 to 6 sentences of the project's sample reviews,
 * seeded) in a JSON Lines file and a CSV file, mixed with planted bad inputs whose fate is known
 * in advance: either the producer rejects the line (no job) or the worker records a failure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PlantedInput {
  /** What it is, for the report. */
  kind: string;
  /** Where it must end: a producer rejection (errors file) or a worker failure record. */
  expect: 'rejected-by-producer' | 'failed-by-worker';
  code: string;
  id?: string;
}

export interface ChaosCorpus {
  jsonl: string;
  csv: string;
  /** Good documents by id (the reference is computed for these). */
  good: Map<string, string>;
  planted: PlantedInput[];
  /** Lines the producer reads (documents and malformed lines, blank lines excluded). */
  lines: number;
}

function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Writes `<dir>/chaos.jsonl` and `<dir>/chaos.csv`. `workerMaxDocBytes` must be below the
 * producer's limit (1 MiB) so the over-size document reaches the worker and fails there.
 */
export function writeChaosCorpus(dir: string, opts: { documents: number; sentencesFile: string; workerMaxDocBytes: number; seed?: number }): ChaosCorpus {
  const sentences = readFileSync(opts.sentencesFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const rnd = seeded(opts.seed ?? 7);
  const good = new Map<string, string>();
  const text = () => Array.from({ length: 1 + Math.floor(rnd() ** 2 * 6) }, () => sentences[Math.floor(rnd() * sentences.length)]).join(' ');
  const csvDocs = Math.max(10, Math.round(opts.documents * 0.05));
  const jsonlLines: string[] = [];
  for (let i = 0; i < opts.documents - csvDocs; i++) {
    const d = { id: `chaos-${i}`, text: text() };
    good.set(d.id, d.text);
    jsonlLines.push(JSON.stringify(d));
  }
  const planted: PlantedInput[] = [];
  const worker = (kind: string, id: string, value: unknown, code = 'E_INPUT_INVALID') => {
    planted.push({ kind, expect: 'failed-by-worker', code, id });
    return JSON.stringify({ id, text: value });
  };
  const producer = (kind: string, line: string, code: string) => {
    planted.push({ kind, expect: 'rejected-by-producer', code });
    return line;
  };
  const bad = [
    worker('empty text', 'bad-empty', ''),
    worker('whitespace-only text', 'bad-whitespace', ' \t\u00a0\n '),
    worker('number as text', 'bad-number', 42),
    worker('null text', 'bad-null', null),
    worker('array as text', 'bad-array', ['not', 'text']),
    worker('object as text', 'bad-object', { text: 'nested' }),
    worker('text over --max-doc-bytes', 'bad-too-large', 'x'.repeat(opts.workerMaxDocBytes + 1), 'E_INPUT_TOO_LARGE'),
    worker('lone surrogate', 'bad-surrogate', 'broken \ud800 text'),
    producer('missing id', JSON.stringify({ text: 'a review without an id' }), 'E_INPUT_INVALID'),
    producer('malformed JSON line (unterminated string)', '{"id": "bad-json-1", "text": "never closed', 'E_INPUT_PARSE'),
    producer('malformed JSON line (not an object)', '[1, 2, 3]', 'E_INPUT_PARSE'),
    producer('malformed JSON line (truncated)', '{"id": "bad-json-2",', 'E_INPUT_PARSE'),
  ];
  // Spread the planted lines through the file, so they meet every fault.
  for (let i = 0; i < bad.length; i++) jsonlLines.splice(Math.floor(((i + 1) * jsonlLines.length) / (bad.length + 1)), 0, bad[i]);

  const csvLines = ['id,text'];
  for (let i = 0; i < csvDocs; i++) {
    const d = { id: `chaos-csv-${i}`, text: text() };
    good.set(d.id, d.text);
    csvLines.push(`${d.id},${csvField(d.text)}`);
    if (i === Math.floor(csvDocs / 3)) csvLines.push(producer('CSV: text after a closing quote', 'bad-csv-1,"closed"then text', 'E_INPUT_PARSE'));
    if (i === Math.floor((2 * csvDocs) / 3)) csvLines.push(producer('CSV: stray quote in an unquoted field', 'bad-csv-2,a stray " quote', 'E_INPUT_PARSE'));
  }
  const jsonl = path.join(dir, 'chaos.jsonl');
  const csv = path.join(dir, 'chaos.csv');
  writeFileSync(jsonl, `${jsonlLines.join('\n')}\n`);
  writeFileSync(csv, `${csvLines.join('\n')}\n`);
  return { jsonl, csv, good, planted, lines: jsonlLines.length + csvLines.length - 1 };
}
