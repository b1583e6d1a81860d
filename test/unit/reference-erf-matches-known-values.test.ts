import { expect, it } from 'vitest';
import { erf } from '../helpers/reference-roberta.js';

it('computes erf to 1e-13 across the series, continued-fraction and saturated ranges', () => {
  // Reference values to 16 digits (Abramowitz & Stegun table 7.1 extended; erfc(4.5) = 1.966e-10).
  const known: [number, number][] = [
    [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
    [2, 0.9953222650189527], [2.5, 0.9995930479825550], [3, 0.9999779095030014],
    [4.5, 0.9999999998033839], [7, 1],
  ];
  for (const [x, y] of known) {
    expect(Math.abs(erf(x) - y), `erf(${x})`).toBeLessThan(1e-13);
    expect(Math.abs(erf(-x) + y), `erf(-${x})`).toBeLessThan(1e-13);
  }
  // No step where the series hands over to the continued fraction.
  expect(Math.abs(erf(2.5 - 1e-12) - erf(2.5))).toBeLessThan(1e-13);
});
