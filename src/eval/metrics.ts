/**
 * Classification metrics from a confusion matrix: accuracy, per-class precision/recall/F1,
 * macro-F1 and the Matthews correlation coefficient.
 *
 * Conventions (those of scikit-learn, so numbers can be compared with its reports):
 * - a ratio whose denominator is 0 (precision of a class never predicted) counts as 0;
 * - macro-F1 averages over the classes that occur in the gold labels or the predictions;
 * - MCC is Gorodkin's multi-class R_K (2004), which equals the binary
 *   (tp·tn − fp·fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) for two classes; it is 0 when a
 *   denominator factor is 0 (e.g. a constant predictor).
 */

export interface ConfusionMatrix {
  labels: string[];
  /** counts[gold][predicted], indexed like `labels`. */
  counts: number[][];
}

export interface ClassMetrics {
  label: string;
  /** Rows whose gold label is this class. */
  support: number;
  /** Rows predicted as this class. */
  predicted: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationMetrics {
  n: number;
  accuracy: number;
  macroF1: number;
  mcc: number;
  perClass: ClassMetrics[];
}

export function emptyConfusionMatrix(labels: string[]): ConfusionMatrix {
  return { labels: [...labels], counts: labels.map(() => labels.map(() => 0)) };
}

/** Counts one (gold, predicted) pair; both must be among the matrix labels. */
export function addPair(cm: ConfusionMatrix, gold: string, predicted: string): void {
  const g = cm.labels.indexOf(gold);
  const p = cm.labels.indexOf(predicted);
  if (g < 0 || p < 0) throw new Error(`label not in the confusion matrix: ${g < 0 ? gold : predicted}`);
  cm.counts[g][p]++;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

export function matthewsCorrelation(cm: ConfusionMatrix): number {
  const k = cm.labels.length;
  let s = 0;
  let c = 0;
  const t = new Array<number>(k).fill(0); // gold totals
  const p = new Array<number>(k).fill(0); // predicted totals
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const v = cm.counts[i][j];
      s += v;
      t[i] += v;
      p[j] += v;
      if (i === j) c += v;
    }
  }
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (let i = 0; i < k; i++) {
    pt += p[i] * t[i];
    pp += p[i] * p[i];
    tt += t[i] * t[i];
  }
  const denominator = Math.sqrt((s * s - pp) * (s * s - tt));
  return denominator === 0 ? 0 : (c * s - pt) / denominator;
}

export function classificationMetrics(cm: ConfusionMatrix): ClassificationMetrics {
  const k = cm.labels.length;
  let n = 0;
  let correct = 0;
  const perClass: ClassMetrics[] = cm.labels.map((label, i) => {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += cm.counts[i][j];
      predicted += cm.counts[j][i];
    }
    const tp = cm.counts[i][i];
    n += support;
    correct += tp;
    // 2tp / (2tp + fp + fn) = 2tp / (predicted + support): equal to 2PR/(P+R), and 0 where both are 0.
    return { label, support, predicted, precision: ratio(tp, predicted), recall: ratio(tp, support), f1: ratio(2 * tp, predicted + support) };
  });
  const present = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  return {
    n,
    accuracy: ratio(correct, n),
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : 0,
    mcc: matthewsCorrelation(cm),
    perClass,
  };
}
