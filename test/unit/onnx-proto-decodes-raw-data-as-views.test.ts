import { expect, it } from 'vitest';
import { DataType, decodeModel, encodeModelToBuffer } from '../../src/model/onnx-proto.js';

it('returns raw_data as a view into the input buffer, not a copy', () => {
  const weights = new Float32Array(1024).map((_, i) => i);
  const buf = encodeModelToBuffer({
    irVersion: 6, opsetImport: [{ domain: '', version: 11 }], producerName: '', producerVersion: '', domain: '',
    modelVersion: 0, docString: '', metadataProps: [],
    graph: {
      name: 'g', node: [], input: [], output: [], valueInfo: [],
      initializer: [{ name: 'w', dims: [1024], dataType: DataType.FLOAT, rawData: new Uint8Array(weights.buffer) }],
    },
  });
  const raw = decodeModel(buf).graph!.initializer[0].rawData as Uint8Array;
  expect(raw.buffer).toBe(buf.buffer);
  expect(raw.byteLength).toBe(4096);
  buf[raw.byteOffset] ^= 0xff;
  expect(raw[0]).toBe(buf[raw.byteOffset]);
});
