/**
 * Writers other than ours (protobuf-c++, older exporters) emit typed data fields, unpacked
 * repeated fields, sign-extended int32s and fields this decoder does not model; the bytes here
 * are built by hand so they do not depend on our encoder.
 */
import { expect, it } from 'vitest';
import { decodeModel } from '../../src/model/onnx-proto.js';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function varint(n: bigint): number[] {
  let v = BigInt.asUintN(64, n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const tag = (field: number, wire: number): number[] => varint(BigInt(field * 8 + wire));
const vField = (field: number, n: number): number[] => [...tag(field, VARINT), ...varint(BigInt(n))];
const lenField = (field: number, payload: number[]): number[] => [...tag(field, LEN), ...varint(BigInt(payload.length)), ...payload];
const str = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const f32 = (values: number[]): number[] => Array.from(new Uint8Array(new Float32Array(values).buffer));
const unknown = (): number[] => [
  ...vField(99, 12345), ...lenField(98, [1, 2, 3]), ...tag(97, I64), 1, 2, 3, 4, 5, 6, 7, 8, ...tag(96, I32), 9, 9, 9, 9,
];

it('decodes float_data, int64_data and int32_data, packed or not, and skips unknown fields everywhere', () => {
  const floats = [...tag(1, VARINT), 2, ...tag(1, VARINT), 2, ...vField(2, 1), ...lenField(4, f32([0.5, -1, 2, 4])), ...lenField(8, str('f')), ...unknown()];
  const int64s = [...lenField(1, varint(3n)), ...vField(2, 7), ...lenField(7, [...varint(-1n), ...varint(0n), ...varint(2n ** 40n)]), ...lenField(8, str('i64'))];
  const int32s = [...vField(1, 2), ...vField(2, 6), ...tag(5, VARINT), ...varint(-5n), ...tag(5, VARINT), ...varint(7n), ...lenField(8, str('i32'))];
  const dim = (payload: number[]): number[] => lenField(1, payload);
  const valueInfo = [
    ...lenField(1, str('input')), ...unknown(),
    ...lenField(2, [...lenField(1, [...vField(1, 7), ...lenField(2, [...dim(lenField(2, str('batch_size'))), ...dim(vField(1, 128)), ...dim([])]), ...unknown()]), ...lenField(6, str('denotation'))]),
  ];
  const attr = [...lenField(1, str('perm')), ...unknown(), ...vField(20, 7), ...vField(8, 0), ...vField(8, 2), ...tag(8, VARINT), ...varint(-1n)];
  const node = [...lenField(1, str('a')), ...lenField(2, str('b')), ...lenField(4, str('Transpose')), ...lenField(5, attr), ...unknown()];
  const graph = [...lenField(1, node), ...lenField(5, floats), ...lenField(5, int64s), ...lenField(5, int32s), ...lenField(11, valueInfo), ...unknown()];
  const model = [...unknown(), ...vField(1, 4), ...lenField(7, graph), ...lenField(8, [...vField(2, 9)]), ...lenField(20, [1, 2]), ...lenField(14, [...lenField(1, str('k')), ...lenField(2, str('v'))])];

  const m = decodeModel(Uint8Array.from(model));

  expect(m.irVersion).toBe(4);
  expect(m.opsetImport).toEqual([{ domain: '', version: 9 }]);
  expect(m.metadataProps).toEqual([{ key: 'k', value: 'v' }]);
  const [f, i64, i32] = m.graph!.initializer;
  expect(f.dims).toEqual([2, 2]);
  expect(Array.from(f.floatData!)).toEqual([0.5, -1, 2, 4]);
  expect(i64.int64Data).toEqual([-1, 0, 2 ** 40]);
  expect(i32.int32Data).toEqual([-5, 7]);
  expect(m.graph!.node[0]).toMatchObject({ opType: 'Transpose', input: ['a'], output: ['b'], attribute: [{ name: 'perm', type: 7, ints: [0, 2, -1] }] });
  expect(m.graph!.input[0]).toEqual({
    name: 'input',
    type: { tensorType: { elemType: 7, shape: [{ dimParam: 'batch_size' }, { dimValue: 128 }, {}] } },
  });
});

it('rejects a length that runs past the end of the buffer', () => {
  expect(() => decodeModel(Uint8Array.from(lenField(7, [1, 2, 3]).slice(0, 3)))).toThrow(/runs past the end/);
});
