import { type DetectionOptions, detectSensitiveData } from "../detector.js";
import { BUILTIN_KINDS, type BuiltinKind } from "../finding.js";
import { LABELLED_EXAMPLES, type LabelledExample } from "./labelled-examples.js";

export interface KindScore {
  kind: BuiltinKind;
  tp: number;
  fp: number;
  fn: number;
  /** tp / (tp + fp); 1 when nothing was predicted. */
  precision: number;
  /** tp / (tp + fn); 1 when nothing was expected. */
  recall: number;
}

export interface DetectionEvaluation {
  perKind: KindScore[];
  overall: Omit<KindScore, "kind">;
  /** What went wrong, example by example: for tuning. Values are fakes from the labelled set. */
  errors: { text: string; missed: string[]; spurious: string[] }[];
}

function score(tp: number, fp: number, fn: number): Omit<KindScore, "kind"> {
  return { tp, fp, fn, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn) };
}

/**
 * Runs the built-in detectors over the labelled examples: a finding counts as a true positive
 * when its kind and exact value are labelled, else as a false positive; a labelled value not
 * found is a false negative. For the bench and the tests.
 */
export function evaluateDetection(
  examples: readonly LabelledExample[] = LABELLED_EXAMPLES,
  options: DetectionOptions = {},
): DetectionEvaluation {
  const counts = new Map<BuiltinKind, { tp: number; fp: number; fn: number }>(
    BUILTIN_KINDS.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]),
  );
  const errors: DetectionEvaluation["errors"] = [];
  for (const example of examples) {
    const expected = new Set(example.expected.map((e) => `${e.kind}\u0000${e.value}`));
    const found = new Set(detectSensitiveData(example.text, options).map((f) => `${f.kind}\u0000${f.value}`));
    const missed: string[] = [];
    const spurious: string[] = [];
    for (const key of found) {
      const kind = key.slice(0, key.indexOf("\u0000")) as BuiltinKind;
      const c = counts.get(kind);
      if (c === undefined) continue;
      if (expected.has(key)) c.tp++;
      else {
        c.fp++;
        spurious.push(key.replace("\u0000", ": "));
      }
    }
    for (const key of expected) {
      if (found.has(key)) continue;
      counts.get(key.slice(0, key.indexOf("\u0000")) as BuiltinKind)!.fn++;
      missed.push(key.replace("\u0000", ": "));
    }
    if (missed.length > 0 || spurious.length > 0) errors.push({ text: example.text, missed, spurious });
  }
  const perKind = [...counts].map(([kind, c]) => ({ kind, ...score(c.tp, c.fp, c.fn) }));
  const total = perKind.reduce((acc, k) => ({ tp: acc.tp + k.tp, fp: acc.fp + k.fp, fn: acc.fn + k.fn }), {
    tp: 0,
    fp: 0,
    fn: 0,
  });
  return { perKind, overall: score(total.tp, total.fp, total.fn), errors };
}
