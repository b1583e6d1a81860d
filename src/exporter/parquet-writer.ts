/**
 * Writes successful result records to one Parquet file, streamed: records are turned into
 * Arrow record batches of `batchRows` rows, and parquet-wasm (the arrow-rs writer compiled to
 * WebAssembly) closes a row group every `rowGroupSize` rows and hands its bytes to the file.
 * Memory is bounded by one row group: 10,000 x 768 float32 = 31 MB of embeddings.
 *
 * Columns: id, status, model_name, model_sha256, run_id, token_count, truncated, windows,
 * finished_at, meta (the document's metadata as a JSON string), then by task
 * - embed: embedding (FixedSizeList<float32>[hidden]), pooling, normalized;
 * - sentiment: label, score (float64, as in the JSON record), logits (FixedSizeList<float32>[labels]).
 * Operational fields of the JSON record (workerId, batchSize, timings) are left out.
 *
 * Exactly once across restarts (a Parquet file cannot be appended to: its footer comes last):
 * - rows go to `<out>.part`, which is fsynced and renamed to `<out>` by close(); `<out>` is
 *   therefore always a complete file, and a crash leaves at most a stale `.part` (overwritten);
 * - if `<out>` exists at start, its ids count as exported, and the first new record starts a
 *   new `.part` that copies the old rows (row group by row group) before the new ones, so
 *   `<out>` keeps holding every record exported so far, each id once; with nothing new, `<out>`
 *   is left untouched;
 * - the exporter deletes the result jobs of these rows from Redis only after close() renamed the
 *   file (`durableOnClose`): rows lost in a crash before that are still in Redis, and written
 *   again by the next export (their ids are not in `<out>`).
 */
import { existsSync, openAsBlob } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import {
  Bool, Field, FixedSizeList, Float32, Float64, Int32, RecordBatch, Schema, Struct, Utf8,
  makeData, tableFromIPC, tableToIPC, vectorFromArray, Table, type Data, type DataType,
} from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { E } from '../shared/errors.js';
import type { OkRecord, Task } from '../shared/types.js';
import type { RecordSink } from './results-exporter.js';

export const PARQUET_ROW_GROUP_ROWS = 10_000;
/** Rows per Arrow batch handed to the writer: 1,000 x 768 float32 = 3 MB per hand-over. */
const BATCH_ROWS = 1_000;

export interface ParquetWriterOptions {
  out: string;
  rowGroupSize?: number;
  batchRows?: number;
}

interface Shape {
  task: Task;
  /** Embedding size (embed) or number of labels (sentiment). */
  width: number;
}

const COMMON_FIELDS = [
  new Field('id', new Utf8(), false),
  new Field('status', new Utf8(), false),
  new Field('model_name', new Utf8(), false),
  new Field('model_sha256', new Utf8(), false),
  new Field('run_id', new Utf8(), true),
  new Field('token_count', new Int32(), false),
  new Field('truncated', new Bool(), false),
  new Field('windows', new Int32(), false),
  new Field('finished_at', new Utf8(), false),
  new Field('meta', new Utf8(), true),
];

function vectorType(width: number): FixedSizeList<Float32> {
  return new FixedSizeList(width, new Field('item', new Float32(), false));
}

export function parquetSchema(shape: Shape): Schema {
  const task = shape.task === 'embed'
    ? [new Field('embedding', vectorType(shape.width), false), new Field('pooling', new Utf8(), false), new Field('normalized', new Bool(), false)]
    : [new Field('label', new Utf8(), false), new Field('score', new Float64(), false), new Field('logits', vectorType(shape.width), false)];
  return new Schema([...COMMON_FIELDS, ...task]);
}

function shapeOf(rec: OkRecord): Shape {
  if (rec.task === 'embed' && rec.embedding) return { task: 'embed', width: rec.embedding.embedding.length };
  if (rec.task === 'sentiment' && rec.sentiment) return { task: 'sentiment', width: rec.sentiment.logits.length };
  throw E.OUTPUT_SCHEMA(`result ${rec.id} has task ${rec.task} without its output`, { hint: 'the results queue holds records of an incompatible version' });
}

/** Reads the task and vector width back from a file this module wrote. */
function shapeOfSchema(schema: Schema, file: string): Shape {
  const f = schema.fields.find((x) => x.name === 'embedding' || x.name === 'logits');
  if (!f || !(f.type instanceof FixedSizeList)) {
    throw E.OUTPUT_SCHEMA(`${file} is not a roberta-batch results file (no embedding or logits column)`, {
      hint: 'export to a new --out file, or move the existing file away',
    });
  }
  return { task: f.name === 'embedding' ? 'embed' : 'sentiment', width: f.type.listSize };
}

function vectors(rows: number[][], width: number): Data<FixedSizeList<Float32>> {
  const flat = new Float32Array(rows.length * width);
  rows.forEach((v, i) => flat.set(v, i * width));
  const child = makeData({ type: new Float32(), length: flat.length, data: flat });
  return makeData({ type: vectorType(width), length: rows.length, nullCount: 0, child });
}

function column<T extends DataType>(values: unknown[], type: T): Data<T> {
  return vectorFromArray(values as never[], type).data[0] as Data<T>;
}

/** One Arrow record batch for `rows`, in the column order of parquetSchema(shape). */
export function recordBatchOf(rows: OkRecord[], shape: Shape): RecordBatch {
  const schema = parquetSchema(shape);
  const children: Data[] = [
    column(rows.map((r) => r.id), new Utf8()),
    column(rows.map((r) => r.status), new Utf8()),
    column(rows.map((r) => r.model.name), new Utf8()),
    column(rows.map((r) => r.model.sha256), new Utf8()),
    column(rows.map((r) => r.runId ?? null), new Utf8()),
    makeData({ type: new Int32(), length: rows.length, data: Int32Array.from(rows, (r) => r.tokenCount) }),
    column(rows.map((r) => r.truncated), new Bool()),
    makeData({ type: new Int32(), length: rows.length, data: Int32Array.from(rows, (r) => r.windows ?? 1) }),
    column(rows.map((r) => r.finishedAt), new Utf8()),
    column(rows.map((r) => (r.meta === undefined ? null : JSON.stringify(r.meta))), new Utf8()),
  ];
  if (shape.task === 'embed') {
    children.push(
      vectors(rows.map((r) => r.embedding!.embedding), shape.width),
      column(rows.map((r) => r.embedding!.pooling), new Utf8()),
      column(rows.map((r) => r.embedding!.normalized), new Bool()),
    );
  } else {
    children.push(
      column(rows.map((r) => r.sentiment!.label), new Utf8()),
      makeData({ type: new Float64(), length: rows.length, data: Float64Array.from(rows, (r) => r.sentiment!.score) }),
      vectors(rows.map((r) => r.sentiment!.logits), shape.width),
    );
  }
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

function writerProperties(rowGroupSize: number, shape: Shape): pw.WriterProperties {
  const vector = shape.task === 'embed' ? 'embedding' : 'logits';
  // Floats: byte-stream-split groups the 4 bytes of each float so zstd finds the repetition in
  // sign/exponent bytes; dictionaries never pay off on continuous values.
  // The per-column setters take the path as ONE string, which parquet-rs keeps as a one-part
  // ColumnPath: it never equals the vector's nested path [vector, list, item] (the file came out
  // dictionary-encoded). So that encoding is the default, and every top-level column, whose
  // one-part path does match, gets the usual dictionary + PLAIN back.
  let b = new pw.WriterPropertiesBuilder()
    .setMaxRowGroupSize(rowGroupSize)
    .setCompression(pw.Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setEncoding(pw.Encoding.BYTE_STREAM_SPLIT);
  for (const f of parquetSchema(shape).fields) {
    if (f.name !== vector) b = b.setColumnDictionaryEnabled(f.name, true).setColumnEncoding(f.name, pw.Encoding.PLAIN);
  }
  return b.setCreatedBy('roberta-batch').build();
}

export class ParquetResultsWriter implements RecordSink {
  readonly durableOnClose = true;
  #out: string;
  #part: string;
  #rowGroupSize: number;
  #batchRows: number;
  #shape: Shape | undefined;
  #existing: pw.ParquetFile | undefined;
  #pending: OkRecord[] = [];
  #written = 0;
  #chain: Promise<void> = Promise.resolve();
  #controller: ReadableStreamDefaultController<pw.RecordBatch> | undefined;
  #pulled: (() => void) | undefined;
  #piped: Promise<void> | undefined;
  #file: FileHandle | undefined;
  #failure: unknown;
  #closing: Promise<void> | undefined;

  constructor(opts: ParquetWriterOptions) {
    this.#out = opts.out;
    this.#part = `${opts.out}.part`;
    this.#rowGroupSize = opts.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS;
    this.#batchRows = opts.batchRows ?? BATCH_ROWS;
  }

  /** Records written by this instance (not counting rows copied from an existing file). */
  get written(): number {
    return this.#written;
  }

  async open(seen: Set<string>): Promise<void> {
    if (!existsSync(this.#out)) return;
    let file: pw.ParquetFile;
    try {
      file = await pw.ParquetFile.fromFile(await openAsBlob(this.#out));
    } catch (err) {
      throw E.OUTPUT_SCHEMA(`${this.#out} exists but is not a readable Parquet file: ${(err as Error).message ?? String(err)}`, {
        hint: 'export to a new --out file, or move the existing file away', cause: err,
      });
    }
    this.#existing = file;
    this.#shape = shapeOfSchema(tableFromIPC(file.schema().intoIPCStream()).schema, this.#out);
    const groups = file.metadata().numRowGroups();
    for (let g = 0; g < groups; g++) {
      const ids = tableFromIPC((await file.read({ columns: ['id'], rowGroups: [g] })).intoIPCStream()).getChild('id')!;
      for (const id of ids) seen.add(String(id));
    }
  }

  write(rec: OkRecord): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const shape = shapeOf(rec);
    this.#shape ??= shape;
    if (shape.task !== this.#shape.task || shape.width !== this.#shape.width) {
      const what = (s: Shape) => `${s.task} ${s.task === 'embed' ? 'embeddings' : 'logits'} of size ${s.width}`;
      return Promise.reject(E.OUTPUT_SCHEMA(`result ${rec.id} has ${what(shape)}, the Parquet file holds ${what(this.#shape)}`, {
        hint: 'export each task and model to its own --out file (one results queue per model)',
      }));
    }
    this.#pending.push(rec);
    this.#written++;
    if (this.#pending.length < this.#batchRows) return Promise.resolve();
    return this.#flush();
  }

  #flush(): Promise<void> {
    const rows = this.#pending.splice(0);
    this.#chain = this.#chain.then(async () => {
      if (!rows.length) return;
      await this.#start();
      const ipc = tableToIPC(new Table([recordBatchOf(rows, this.#shape!)]), 'stream');
      const table = pw.Table.fromIPCStream(ipc);
      for (const b of table.recordBatches()) await this.#enqueue(b);
    }).catch((err) => {
      this.#failure ??= err;
      throw this.#failure;
    });
    return this.#chain;
  }

  /** Opens `<out>.part` and the Parquet stream; copies the rows of an existing `<out>` first. */
  async #start(): Promise<void> {
    if (this.#controller) return;
    const source = new ReadableStream<pw.RecordBatch>({
      start: (c) => { this.#controller = c; },
      pull: () => { this.#pulled?.(); this.#pulled = undefined; },
    }, { highWaterMark: 2 });
    this.#file = await open(this.#part, 'w');
    const file = this.#file;
    // Not awaited here: the transform reads the first batch (for the schema) before it resolves.
    this.#piped = pw.transformParquetStream(source, writerProperties(this.#rowGroupSize, this.#shape!)).then((bytes) =>
      (bytes as ReadableStream<Uint8Array>).pipeTo(new WritableStream<Uint8Array>({
        write: async (chunk) => { await file.write(chunk); },
      })),
    ).catch((err) => {
      this.#failure ??= E.OUTPUT_WRITE(`cannot write ${this.#part}: ${(err as Error)?.message ?? String(err)}`, {
        hint: 'check free disk space and permissions; the next export starts the file again', cause: err,
      });
      this.#pulled?.();
    });
    if (this.#existing) {
      const reader = (await this.#existing.stream({ batchSize: this.#batchRows })).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await this.#enqueue(value as pw.RecordBatch);
      }
    }
  }

  async #enqueue(batch: pw.RecordBatch): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#controller!.enqueue(batch);
    // Back-pressure: wait while the writer has two batches queued and has not asked for more.
    if ((this.#controller!.desiredSize ?? 1) <= 0) await new Promise<void>((r) => { this.#pulled = r; });
    if (this.#failure) throw this.#failure;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#flush().catch(() => undefined);
      if (!this.#controller) {
        // Nothing new: an existing <out> stays as it is.
        if (this.#failure) throw this.#failure;
        return;
      }
      if (!this.#failure) this.#controller.close();
      else this.#controller.error(this.#failure);
      await this.#piped;
      try {
        if (!this.#failure) await this.#file!.sync();
      } finally {
        await this.#file!.close();
      }
      if (this.#failure) {
        // A half-written .part is useless (no footer); <out> keeps its last complete version.
        await rm(this.#part, { force: true });
        throw this.#failure;
      }
      await rename(this.#part, this.#out);
    })();
    return this.#closing;
  }
}
