/**
 * A hand-written protobuf codec for the subset of onnx.proto that RoBERTa models use, so the
 * generator and the model inspector need no protobuf runtime.
 *
 * Field numbers are those of github.com/onnx/onnx/blob/main/onnx/onnx.proto (IR version 8+);
 * fields this module does not model are skipped when decoding, never an error.
 *
 * Decoding never copies tensor bytes: `rawData` is a subarray of the input buffer, so a 500 MB
 * zoo model costs one file read and a few kilobytes of structure. Encoding produces a list of
 * parts in which tensor bytes are referenced (or produced lazily, see LazyBytes), so a writer
 * can stream a model to disk one tensor at a time.
 */

export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7,
  STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;

/** Bytes that exist only when written: lets the generator emit a 154 MB embedding table on demand. */
export interface LazyBytes {
  readonly byteLength: number;
  produce(): Uint8Array;
}

/** The bytes of a part, produced now if they are lazy. */
export function bytesOfPart(part: Uint8Array | LazyBytes): Uint8Array {
  return part instanceof Uint8Array ? part : part.produce();
}

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  /** A view into the decoded buffer (decode), or bytes / a producer to write (encode). */
  rawData?: Uint8Array | LazyBytes;
  floatData?: Float32Array;
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: Float64Array;
  /** 1 = EXTERNAL: the bytes live in another file (not supported by the generator). */
  dataLocation?: number;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

export interface Dimension {
  dimValue?: number;
  dimParam?: string;
}

export interface TypeProto {
  tensorType?: { elemType: number; shape?: Dimension[] };
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  graph?: GraphProto;
  metadataProps: { key: string; value: string }[];
}

// ---------------------------------------------------------------------------------- wire level

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoDecodeError';
  }
}

class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Varints up to 7 bytes (49 bits) are exact numbers; longer ones go through BigInt as int64. */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError(`truncated varint at byte ${this.pos}`);
      const b = buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    let big = BigInt(result);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError(`truncated varint at byte ${this.pos}`);
      const b = buf[this.pos++];
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
      shift += 7n;
    }
    throw new ProtoDecodeError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  bytes(): Uint8Array {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new ProtoDecodeError(`length ${len} at byte ${start} runs past the end (${this.end})`);
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  sub(): Reader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new ProtoDecodeError(`message of ${len} bytes at byte ${start} runs past the end (${this.end})`);
    this.pos = start + len;
    return new Reader(this.buf, start, start + len);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw new ProtoDecodeError(`truncated float at byte ${this.pos}`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    if (this.pos + 8 > this.end) throw new ProtoDecodeError(`truncated double at byte ${this.pos}`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint(); return;
      case WIRE_I64: this.pos += 8; break;
      case WIRE_LEN: this.bytes(); return;
      case WIRE_I32: this.pos += 4; break;
      default: throw new ProtoDecodeError(`unsupported wire type ${wire} at byte ${this.pos}`);
    }
    if (this.pos > this.end) throw new ProtoDecodeError(`truncated field at byte ${this.end}`);
  }

  /** Repeated scalar fields may be packed (one LEN field) or not (one field per value). */
  repeatedVarint(wire: number, into: number[]): void {
    if (wire !== WIRE_LEN) {
      into.push(this.varint());
      return;
    }
    const r = this.sub();
    while (!r.done) into.push(r.varint());
  }

  repeatedFloat32(wire: number, into: number[]): void {
    if (wire !== WIRE_LEN) {
      into.push(this.float32());
      return;
    }
    const r = this.sub();
    while (!r.done) into.push(r.float32());
  }
}

function* fields(r: Reader): Generator<[number, number]> {
  while (!r.done) {
    const tag = r.varint();
    yield [Math.floor(tag / 8), tag & 7];
  }
}

// ---------------------------------------------------------------------------------- decoding

/** Decodes a serialized ModelProto. Tensor `rawData` fields are views into `buf`. */
export function decodeModel(buf: Uint8Array): ModelProto {
  const m: ModelProto = {
    irVersion: 0, opsetImport: [], producerName: '', producerVersion: '', domain: '',
    modelVersion: 0, docString: '', metadataProps: [],
  };
  const r = new Reader(buf);
  for (const [field, wire] of fields(r)) {
    switch (field) {
      case 1: m.irVersion = r.varint(); break;
      case 2: m.producerName = r.string(); break;
      case 3: m.producerVersion = r.string(); break;
      case 4: m.domain = r.string(); break;
      case 5: m.modelVersion = r.varint(); break;
      case 6: m.docString = r.string(); break;
      case 7: m.graph = decodeGraph(r.sub()); break;
      case 8: m.opsetImport.push(decodeOpset(r.sub())); break;
      case 14: m.metadataProps.push(decodeEntry(r.sub())); break;
      default: r.skip(wire);
    }
  }
  return m;
}

function decodeOpset(r: Reader): OperatorSetId {
  const o: OperatorSetId = { domain: '', version: 0 };
  for (const [field, wire] of fields(r)) {
    if (field === 1) o.domain = r.string();
    else if (field === 2) o.version = r.varint();
    else r.skip(wire);
  }
  return o;
}

function decodeEntry(r: Reader): { key: string; value: string } {
  const e = { key: '', value: '' };
  for (const [field, wire] of fields(r)) {
    if (field === 1) e.key = r.string();
    else if (field === 2) e.value = r.string();
    else r.skip(wire);
  }
  return e;
}

function decodeGraph(r: Reader): GraphProto {
  const g: GraphProto = { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [] };
  for (const [field, wire] of fields(r)) {
    switch (field) {
      case 1: g.node.push(decodeNode(r.sub())); break;
      case 2: g.name = r.string(); break;
      case 5: g.initializer.push(decodeTensor(r.sub())); break;
      case 11: g.input.push(decodeValueInfo(r.sub())); break;
      case 12: g.output.push(decodeValueInfo(r.sub())); break;
      case 13: g.valueInfo.push(decodeValueInfo(r.sub())); break;
      default: r.skip(wire);
    }
  }
  return g;
}

function decodeNode(r: Reader): NodeProto {
  const n: NodeProto = { name: '', opType: '', domain: '', input: [], output: [], attribute: [] };
  for (const [field, wire] of fields(r)) {
    switch (field) {
      case 1: n.input.push(r.string()); break;
      case 2: n.output.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 5: n.attribute.push(decodeAttribute(r.sub())); break;
      case 7: n.domain = r.string(); break;
      default: r.skip(wire);
    }
  }
  return n;
}

function decodeAttribute(r: Reader): AttributeProto {
  const a: AttributeProto = { name: '', type: AttributeType.UNDEFINED };
  for (const [field, wire] of fields(r)) {
    switch (field) {
      case 1: a.name = r.string(); break;
      case 20: a.type = r.varint(); break;
      case 2: a.f = r.float32(); break;
      case 3: a.i = r.varint(); break;
      case 4: a.s = r.bytes(); break;
      case 5: a.t = decodeTensor(r.sub()); break;
      case 6: a.g = decodeGraph(r.sub()); break;
      case 7: r.repeatedFloat32(wire, (a.floats ??= [])); break;
      case 8: r.repeatedVarint(wire, (a.ints ??= [])); break;
      case 9: (a.strings ??= []).push(r.bytes()); break;
      default: r.skip(wire);
    }
  }
  // IR < 2 files carry no type field; infer it from the value that is present.
  if (a.type === AttributeType.UNDEFINED) a.type = inferAttributeType(a);
  return a;
}

function inferAttributeType(a: AttributeProto): number {
  if (a.f !== undefined) return AttributeType.FLOAT;
  if (a.i !== undefined) return AttributeType.INT;
  if (a.s !== undefined) return AttributeType.STRING;
  if (a.t !== undefined) return AttributeType.TENSOR;
  if (a.g !== undefined) return AttributeType.GRAPH;
  if (a.floats !== undefined) return AttributeType.FLOATS;
  if (a.ints !== undefined) return AttributeType.INTS;
  if (a.strings !== undefined) return AttributeType.STRINGS;
  return AttributeType.UNDEFINED;
}

function decodeTensor(r: Reader): TensorProto {
  const t: TensorProto = { name: '', dims: [], dataType: DataType.UNDEFINED };
  const floats: number[] = [];
  const doubles: number[] = [];
  for (const [field, wire] of fields(r)) {
    switch (field) {
      case 1: r.repeatedVarint(wire, t.dims); break;
      case 2: t.dataType = r.varint(); break;
      case 4: r.repeatedFloat32(wire, floats); break;
      case 5: r.repeatedVarint(wire, (t.int32Data ??= [])); break;
      case 7: r.repeatedVarint(wire, (t.int64Data ??= [])); break;
      case 8: t.name = r.string(); break;
      case 9: t.rawData = r.bytes(); break;
      case 10:
        if (wire === WIRE_LEN) {
          const s = r.sub();
          while (!s.done) doubles.push(s.float64());
        } else doubles.push(r.float64());
        break;
      case 14: t.dataLocation = r.varint(); break;
      default: r.skip(wire);
    }
  }
  if (floats.length > 0) t.floatData = Float32Array.from(floats);
  if (doubles.length > 0) t.doubleData = Float64Array.from(doubles);
  // int32 fields are sign-extended to 64 bits on the wire; fold them back.
  if (t.int32Data) t.int32Data = t.int32Data.map((v) => v | 0);
  return t;
}

function decodeValueInfo(r: Reader): ValueInfoProto {
  const v: ValueInfoProto = { name: '' };
  for (const [field, wire] of fields(r)) {
    if (field === 1) v.name = r.string();
    else if (field === 2) v.type = decodeType(r.sub());
    else r.skip(wire);
  }
  return v;
}

function decodeType(r: Reader): TypeProto {
  const t: TypeProto = {};
  for (const [field, wire] of fields(r)) {
    if (field === 1) t.tensorType = decodeTensorType(r.sub());
    else r.skip(wire);
  }
  return t;
}

function decodeTensorType(r: Reader): { elemType: number; shape?: Dimension[] } {
  const tt: { elemType: number; shape?: Dimension[] } = { elemType: DataType.UNDEFINED };
  for (const [field, wire] of fields(r)) {
    if (field === 1) tt.elemType = r.varint();
    else if (field === 2) tt.shape = decodeShape(r.sub());
    else r.skip(wire);
  }
  return tt;
}

function decodeShape(r: Reader): Dimension[] {
  const dims: Dimension[] = [];
  for (const [field, wire] of fields(r)) {
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const d: Dimension = {};
    const dr = r.sub();
    for (const [f, w] of fields(dr)) {
      if (f === 1) d.dimValue = dr.varint();
      else if (f === 2) d.dimParam = dr.string();
      else dr.skip(w);
    }
    dims.push(d);
  }
  return dims;
}

// ---------------------------------------------------------------------------------- encoding

/** One piece of an encoded model, in file order. */
export type Part = Uint8Array | LazyBytes;

export interface EncodedModel {
  parts: Part[];
  byteLength: number;
}

/** Accumulates small fields into one buffer and keeps big byte fields as separate parts. */
class Writer {
  #parts: Part[] = [];
  #small: number[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #byte(b: number): void {
    this.#small.push(b);
    this.#length++;
  }

  #rawVarint(n: number): void {
    if (n < 0 || !Number.isSafeInteger(n)) {
      if (!Number.isInteger(n)) throw new RangeError(`varint must be an integer, got ${n}`);
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        this.#byte(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.#byte(Number(v));
      return;
    }
    while (n >= 0x80) {
      this.#byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.#byte(n);
  }

  #tag(field: number, wire: number): void {
    this.#rawVarint(field * 8 + wire);
  }

  #flushSmall(): void {
    if (this.#small.length === 0) return;
    this.#parts.push(Uint8Array.from(this.#small));
    this.#small = [];
  }

  #append(part: Part): void {
    if (part.byteLength === 0) return;
    if (part instanceof Uint8Array && part.byteLength <= 64) {
      for (const b of part) this.#small.push(b);
    } else {
      this.#flushSmall();
      this.#parts.push(part);
    }
    this.#length += part.byteLength;
  }

  varint(field: number, n: number | undefined): this {
    if (n === undefined) return this;
    this.#tag(field, WIRE_VARINT);
    this.#rawVarint(n);
    return this;
  }

  float32(field: number, f: number | undefined): this {
    if (f === undefined) return this;
    this.#tag(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    for (const x of b) this.#byte(x);
    return this;
  }

  bytes(field: number, data: Part | undefined): this {
    if (data === undefined) return this;
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(data.byteLength);
    this.#append(data);
    return this;
  }

  string(field: number, s: string | undefined): this {
    if (s === undefined) return this;
    return this.bytes(field, utf8Encoder.encode(s));
  }

  /** Skips empty strings: onnx.proto readers treat an absent string as "". */
  optString(field: number, s: string | undefined): this {
    return s ? this.string(field, s) : this;
  }

  message(field: number, sub: Writer): this {
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(sub.length);
    this.#flushSmall();
    for (const p of sub.finish()) this.#parts.push(p);
    this.#length += sub.length;
    return this;
  }

  packedVarints(field: number, values: readonly number[] | undefined): this {
    if (!values || values.length === 0) return this;
    const inner = new Writer();
    for (const v of values) inner.#rawVarint(v);
    return this.bytes(field, concatParts(inner.finish(), inner.length));
  }

  packedFloats(field: number, values: ArrayLike<number> | undefined): this {
    if (!values || values.length === 0) return this;
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    return this.bytes(field, b);
  }

  finish(): Part[] {
    this.#flushSmall();
    return this.#parts;
  }
}

function concatParts(parts: Part[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    const b = bytesOfPart(p);
    if (b.byteLength !== p.byteLength) throw new Error(`lazy part produced ${b.byteLength} bytes, announced ${p.byteLength}`);
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
}

/** Encodes a model as parts whose lengths are all known before any tensor bytes exist. */
export function encodeModel(m: ModelProto): EncodedModel {
  const w = new Writer()
    .varint(1, m.irVersion)
    .optString(2, m.producerName)
    .optString(3, m.producerVersion)
    .optString(4, m.domain)
    .varint(5, m.modelVersion || undefined)
    .optString(6, m.docString);
  if (m.graph) w.message(7, encodeGraph(m.graph));
  for (const o of m.opsetImport) w.message(8, new Writer().optString(1, o.domain).varint(2, o.version));
  for (const e of m.metadataProps) w.message(14, new Writer().string(1, e.key).string(2, e.value));
  return { parts: w.finish(), byteLength: w.length };
}

/** The whole model in one buffer; for small models (tests, tiny presets) only. */
export function encodeModelToBuffer(m: ModelProto): Uint8Array {
  const { parts, byteLength } = encodeModel(m);
  return concatParts(parts, byteLength);
}

function encodeGraph(g: GraphProto): Writer {
  const w = new Writer();
  for (const n of g.node) w.message(1, encodeNode(n));
  w.optString(2, g.name);
  for (const t of g.initializer) w.message(5, encodeTensor(t));
  for (const v of g.input) w.message(11, encodeValueInfo(v));
  for (const v of g.output) w.message(12, encodeValueInfo(v));
  for (const v of g.valueInfo) w.message(13, encodeValueInfo(v));
  return w;
}

function encodeNode(n: NodeProto): Writer {
  const w = new Writer();
  for (const i of n.input) w.string(1, i);
  for (const o of n.output) w.string(2, o);
  w.optString(3, n.name).string(4, n.opType);
  for (const a of n.attribute) w.message(5, encodeAttribute(a));
  w.optString(7, n.domain);
  return w;
}

function encodeAttribute(a: AttributeProto): Writer {
  const w = new Writer().string(1, a.name).float32(2, a.f).varint(3, a.i).bytes(4, a.s);
  if (a.t) w.message(5, encodeTensor(a.t));
  if (a.g) w.message(6, encodeGraph(a.g));
  w.packedFloats(7, a.floats).packedVarints(8, a.ints);
  for (const s of a.strings ?? []) w.bytes(9, s);
  return w.varint(20, a.type);
}

function encodeTensor(t: TensorProto): Writer {
  const w = new Writer()
    .packedVarints(1, t.dims)
    .varint(2, t.dataType)
    .packedFloats(4, t.floatData)
    .packedVarints(5, t.int32Data)
    .packedVarints(7, t.int64Data)
    .string(8, t.name)
    .bytes(9, t.rawData);
  if (t.doubleData && t.doubleData.length > 0) {
    const b = new Uint8Array(t.doubleData.length * 8);
    const dv = new DataView(b.buffer);
    t.doubleData.forEach((v, i) => dv.setFloat64(i * 8, v, true));
    w.bytes(10, b);
  }
  return w.varint(14, t.dataLocation);
}

function encodeValueInfo(v: ValueInfoProto): Writer {
  const w = new Writer().string(1, v.name);
  const tt = v.type?.tensorType;
  if (tt) {
    const tensor = new Writer().varint(1, tt.elemType);
    if (tt.shape) {
      const shape = new Writer();
      for (const d of tt.shape) shape.message(1, new Writer().varint(1, d.dimValue).string(2, d.dimParam));
      tensor.message(2, shape);
    }
    w.message(2, new Writer().message(1, tensor));
  }
  return w;
}
