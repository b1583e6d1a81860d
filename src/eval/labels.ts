/**
 * Maps a gold label from a labelled file onto the model's label names (those of --labels, or
 * `negative,positive` for a 2-label model: see src/worker/postprocess.ts), in this order:
 * 1. a string equal to a label name, ignoring case and surrounding spaces (`Positive` → positive);
 * 2. an integer, or a string holding one, used as the index into the label names
 *    (`0` → negative, `1` → positive: the GLUE SST-2 and rt-polarity convention);
 * 3. anything else (`neutral` for a 2-label model, an empty cell, `0.5`) is not mapped: the
 *    row is excluded from the metrics and counted under the label as written.
 */

/** How an unmapped gold label is reported. */
export const MISSING_LABEL = '(missing)';

export function goldLabelKey(raw: unknown): string {
  if (raw === undefined || raw === null) return MISSING_LABEL;
  const s = typeof raw === 'string' ? raw.trim() : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
  return s === '' ? MISSING_LABEL : s;
}

export function mapGoldLabel(raw: unknown, modelLabels: readonly string[]): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (!s) return undefined;
    const byName = modelLabels.find((l) => l.toLowerCase() === s);
    if (byName !== undefined) return byName;
    return /^\d+$/.test(s) ? modelLabels[Number(s)] : undefined;
  }
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return modelLabels[raw];
  return undefined;
}
