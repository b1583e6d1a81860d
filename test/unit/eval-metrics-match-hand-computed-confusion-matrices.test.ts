/**
 * Accuracy, macro-F1 and MCC against confusion matrices computed by hand.
 * Matrices are counts[gold][predicted].
 */
import { describe, expect, it } from 'vitest';
import { addPair, classificationMetrics, emptyConfusionMatrix, matthewsCorrelation, type ConfusionMatrix } from '../../src/eval/metrics.js';

const binary = (counts: number[][]): ConfusionMatrix => ({ labels: ['negative', 'positive'], counts });

describe('classification metrics', () => {
  it('reproduces the ONNX Model Zoo notebook MCC from its tp/tn/fp/fn', () => {
    // roberta-sequence-classification-validation.ipynb prints tp 240, tn 244, fp 16, fn 22, mcc 0.8546426396822812:
    // (240·244 − 16·22) / sqrt(256·262·260·266) = 58208 / 68108.0…
    const m = classificationMetrics(binary([[244, 16], [22, 240]]));
    expect(m.mcc).toBeCloseTo(0.8546426396822812, 12);
    expect(m.accuracy).toBeCloseTo(484 / 522, 12);
    expect(m.n).toBe(522);
  });

  it('computes Gorodkin MCC, accuracy and macro-F1 for a 3-class matrix', () => {
    // s = 20, c = 14, gold totals t = (6, 6, 8), predicted totals p = (7, 6, 7):
    // MCC = (14·20 − Σ p·t) / sqrt((20² − Σ p²)(20² − Σ t²)) = (280 − 134) / sqrt(266 · 264) = 0.5509473189696001
    const cm: ConfusionMatrix = { labels: ['negative', 'neutral', 'positive'], counts: [[5, 1, 0], [2, 3, 1], [0, 2, 6]] };
    const m = classificationMetrics(cm);
    expect(m.mcc).toBeCloseTo(0.5509473189696001, 12);
    expect(m.accuracy).toBeCloseTo(0.7, 12);
    // F1 = 2tp / (predicted + support): 10/13, 6/12, 12/15.
    expect(m.perClass.map((c) => c.f1)).toEqual([10 / 13, 0.5, 0.8].map((x) => expect.closeTo(x, 12)));
    expect(m.macroF1).toBeCloseTo((10 / 13 + 0.5 + 0.8) / 3, 12);
    expect(m.perClass[0]).toMatchObject({ support: 6, predicted: 7 });
    expect(m.perClass[0].precision).toBeCloseTo(5 / 7, 12);
    expect(m.perClass[0].recall).toBeCloseTo(5 / 6, 12);
  });

  it('gives MCC 1 for a perfect predictor and -1 for an all-wrong binary one', () => {
    expect(matthewsCorrelation(binary([[7, 0], [0, 5]]))).toBe(1);
    expect(matthewsCorrelation(binary([[0, 7], [5, 0]]))).toBe(-1);
    const perfect3: ConfusionMatrix = { labels: ['a', 'b', 'c'], counts: [[3, 0, 0], [0, 4, 0], [0, 0, 2]] };
    expect(classificationMetrics(perfect3)).toMatchObject({ mcc: 1, accuracy: 1, macroF1: 1 });
  });

  it('gives MCC 0 for a constant predictor, and F1 0 for the class it never predicts', () => {
    const m = classificationMetrics(binary([[0, 5], [0, 5]]));
    expect(m.mcc).toBe(0);
    expect(m.accuracy).toBe(0.5);
    expect(m.perClass[0]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(m.perClass[1].f1).toBeCloseTo(2 / 3, 12);
    expect(m.macroF1).toBeCloseTo(1 / 3, 12);
  });

  it('builds the matrix from pairs and averages F1 over the classes that occur', () => {
    const cm = emptyConfusionMatrix(['negative', 'positive', 'unused']);
    for (const [g, p] of [['negative', 'negative'], ['negative', 'positive'], ['positive', 'positive']] as const) addPair(cm, g, p);
    expect(cm.counts).toEqual([[1, 1, 0], [0, 1, 0], [0, 0, 0]]);
    const m = classificationMetrics(cm);
    // negative: 2·1/(1+2) = 2/3; positive: 2·1/(2+1) = 2/3; `unused` has no support and no prediction.
    expect(m.macroF1).toBeCloseTo(2 / 3, 12);
    expect(() => addPair(cm, 'neutral', 'positive')).toThrow(/neutral/);
  });
});
